/**
 * A recording HTTP proxy in front of the emulator, and the IAM reading of what passed through it: each
 * SQS (JSON protocol, X-Amz-Target) and S3 (path-style REST) request becomes the (action, resource ARN)
 * pairs AWS would authorize, so a test can check a role's statements against what the code really calls.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppArns, PolicyStatement } from '../../infra/iam-policies.ts';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

export interface RecordingProxy {
  url: string;
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      const forward = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: { ...incoming.headers, host: upstream.host } },
        (answer) => {
          requests.push({ method: incoming.method ?? 'GET', url: incoming.url ?? '/', headers: incoming.headers, body: body.toString('utf8'), status: answer.statusCode ?? 0 });
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      forward.on('error', () => outgoing.writeHead(502).end());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface Authorization {
  action: string;
  resource: string;
}

/** `https://…/<account>/<name>` → `arn:aws:sqs:<region>:<account>:<name>`. */
export function queueArn(queueUrl: string, region: string): string {
  const [account, name] = new URL(queueUrl).pathname.split('/').filter(Boolean).slice(-2);
  return `arn:aws:sqs:${region}:${account}:${name}`;
}

/** What IAM checks for one request (S3 without ListBucket answers a missing key with 403, so a 404 needs it too). */
/**
 * The app's ARNs for an emulator's queues and bucket, as the IAM statement builders take them; the fleet group,
 * runner repository and log group are placeholders unless a test names its own.
 */
export function emulatorArns(
  emulator: { config: { aws: { region: string } }; jobsQueueUrl: string; jobsDlqUrl: string; eventsQueueUrl: string; bucket: string },
  placeholders: Partial<Pick<AppArns, 'fleetGroup' | 'runnerRepository' | 'runnerLogGroup'>> = {},
): AppArns {
  const region = emulator.config.aws.region;
  return {
    jobsQueue: queueArn(emulator.jobsQueueUrl, region),
    jobsDlq: queueArn(emulator.jobsDlqUrl, region),
    eventsQueue: queueArn(emulator.eventsQueueUrl, region),
    bucket: `arn:aws:s3:::${emulator.bucket}`,
    fleetGroup: 'arn:aws:autoscaling:us-east-1:1:autoScalingGroup:x:autoScalingGroupName/g',
    runnerRepository: 'arn:aws:ecr:us-east-1:1:repository/r',
    runnerLogGroup: 'arn:aws:logs:us-east-1:1:log-group:/l',
    ...placeholders,
  };
}

export function authorizationsOf(recorded: RecordedRequest, region: string): Authorization[] {
  const target = recorded.headers['x-amz-target'];
  if (typeof target === 'string' && target.startsWith('AmazonSQS.')) {
    const { QueueUrl } = JSON.parse(recorded.body) as { QueueUrl: string };
    return [{ action: `sqs:${target.slice('AmazonSQS.'.length)}`, resource: queueArn(QueueUrl, region) }];
  }
  const url = new URL(recorded.url, 'http://s3.local');
  const [bucket, ...keyParts] = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const key = keyParts.join('/');
  const bucketArn = `arn:aws:s3:::${bucket}`;
  if (recorded.method === 'GET' && key === '' && url.searchParams.has('list-type')) return [{ action: 's3:ListBucket', resource: bucketArn }];
  if (recorded.method === 'POST' && url.searchParams.has('delete')) {
    return [...recorded.body.matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => ({ action: 's3:DeleteObject', resource: `${bucketArn}/${unescapeXml(match[1]!)}` }));
  }
  const object = `${bucketArn}/${key}`;
  const byMethod: Record<string, string> = { GET: 's3:GetObject', HEAD: 's3:GetObject', PUT: 's3:PutObject', DELETE: 's3:DeleteObject' };
  const action = byMethod[recorded.method];
  if (!action) throw new Error(`unmapped S3 request ${recorded.method} ${recorded.url}`);
  return [{ action, resource: object }, ...(recorded.status === 404 ? [{ action: 's3:ListBucket', resource: bucketArn }] : [])];
}

const unescapeXml = (text: string) => text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&apos;', "'").replaceAll('&amp;', '&');

const globToRegExp = (pattern: string) => new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

/** The statement that allows this, if any (Allow-only policies, as infra/iam-policies.ts builds them). */
export function allowingStatement(statements: PolicyStatement[], { action, resource }: Authorization): PolicyStatement | undefined {
  return statements.find((s) => s.Action.some((a) => globToRegExp(a).test(action)) && s.Resource.some((r) => globToRegExp(r).test(resource)));
}

/**
 * Requests against statements: `denied` lists each SQS/S3 request no statement allows, `unused` each SQS/S3
 * action granted that no request needed ("Sid: action").
 */
export function checkStatements(statements: PolicyStatement[], authorizations: Authorization[]): { denied: string[]; unused: string[] } {
  const denied = [...new Set(authorizations.filter((a) => !allowingStatement(statements, a)).map((a) => `${a.action} ${a.resource}`))];
  const unused: string[] = [];
  for (const statement of statements.filter((s) => /^(sqs|s3):/.test(s.Action[0]!))) {
    for (const action of statement.Action) {
      if (!authorizations.some((a) => a.action === action && allowingStatement([{ ...statement, Action: [action] }], a))) unused.push(`${statement.Sid}: ${action}`);
    }
  }
  return { denied, unused };
}
