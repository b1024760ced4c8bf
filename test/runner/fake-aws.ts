/**
 * Loopback stand-ins for the two AWS endpoints the runner talks to outside SQS/S3:
 * - instance metadata (IMDSv2: token PUT, then GETs with it), with the instance id and a spot switch;
 * - the Auto Scaling API (Query protocol: form-encoded POST, XML answer), recording every request as the
 *   real SDK sent it, and answering with an error while `failWith` is set.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};
const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

export interface FakeImds {
  url: string;
  requests: string[];
  stop(): Promise<void>;
}

export async function startFakeImds(instanceId: string): Promise<FakeImds> {
  const token = 'imds-token-1';
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    if (request.method === 'PUT' && request.url === '/latest/api/token' && request.headers['x-aws-ec2-metadata-token-ttl-seconds']) return void response.end(token);
    if (request.headers['x-aws-ec2-metadata-token'] !== token) return void response.writeHead(401).end();
    if (request.method === 'GET' && request.url === '/latest/meta-data/instance-id') return void response.end(instanceId);
    response.writeHead(404).end();
  });
  const url = await listen(server);
  return { url, requests, stop: () => close(server) };
}

export interface RecordedQuery {
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
}

export interface FakeAutoScaling {
  url: string;
  calls: RecordedQuery[];
  /** While set, every request is answered with this Query-protocol error. */
  failWith: { status: number; code: string; message: string } | undefined;
  /** Resolves once `count` requests have been answered. */
  waitForCalls(count: number, timeoutMs?: number): Promise<RecordedQuery[]>;
  stop(): Promise<void>;
}

const NS = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';

export async function startFakeAutoScaling(): Promise<FakeAutoScaling> {
  const waiters: Array<() => void> = [];
  const fake: FakeAutoScaling = {
    url: '',
    calls: [],
    failWith: undefined,
    waitForCalls(count, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`expected ${count} Auto Scaling calls, saw ${fake.calls.length}: ${JSON.stringify(fake.calls.map((c) => c.params))}`)), timeoutMs);
        const check = () => {
          if (fake.calls.length >= count) {
            clearTimeout(timer);
            resolve(fake.calls.slice(0, count));
          } else waiters.push(check);
        };
        check();
      });
    },
    stop: () => close(server),
  };
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(body));
      const action = params.Action ?? 'Unknown';
      const failure = fake.failWith;
      if (failure) {
        response.writeHead(failure.status, { 'content-type': 'text/xml' });
        response.end(`<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${failure.code}</Code><Message>${failure.message}</Message></Error><RequestId>req-${fake.calls.length}</RequestId></ErrorResponse>`);
      } else {
        response.writeHead(200, { 'content-type': 'text/xml' });
        response.end(`<${action}Response xmlns="${NS}"><${action}Result/><ResponseMetadata><RequestId>req-${fake.calls.length}</RequestId></ResponseMetadata></${action}Response>`);
      }
      fake.calls.push({ params, headers: request.headers });
      for (const wake of waiters.splice(0)) wake();
    });
  });
  fake.url = await listen(server);
  return fake;
}
