/**
 * `npm run preflight` logic (infra/preflight.ts) against recorded AWS responses (test/fixtures/aws-preflight):
 * real SDK v3 clients whose request handler answers from the files instead of the network, so the SDK's own
 * parsers read them and the test sees the requests the clients would send.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { EC2Client } from '@aws-sdk/client-ec2';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { formatPreflight, runPreflight, type PreflightInputs } from '../../infra/preflight.ts';

const fixtures = resolve(import.meta.dirname, '../fixtures/aws-preflight');

interface SentRequest {
  operation: string;
  body: string;
}

/** A request handler that answers each operation with its recorded file (`__status` in a JSON file sets the HTTP status). */
function recorded(account: string, sent: SentRequest[]) {
  return {
    async handle(request: { headers: Record<string, string>; path: string; body?: unknown }) {
      const body = typeof request.body === 'string' ? request.body : '';
      const operation =
        request.headers['x-amz-target']?.split('.')[1] ??
        /(?:^|&)Action=([A-Za-z]+)/.exec(body)?.[1] ??
        (request.path.includes('account-settings') ? 'GetAccountSettings' : `unknown ${request.path}`);
      sent.push({ operation, body: decodeURIComponent(body) });
      const xml = join(fixtures, account, `${operation}.xml`);
      const json = join(fixtures, account, `${operation}.json`);
      let text: string;
      let status = 200;
      let contentType = 'application/x-amz-json-1.1';
      try {
        text = readFileSync(xml, 'utf8');
        contentType = 'text/xml';
      } catch {
        text = readFileSync(json, 'utf8');
        const parsed = JSON.parse(text) as { __status?: number };
        if (parsed.__status) {
          status = parsed.__status;
          text = JSON.stringify({ ...parsed, __status: undefined });
        }
        if (operation === 'GetAccountSettings') contentType = 'application/json';
      }
      return { response: { statusCode: status, reason: '', headers: { 'content-type': contentType, 'x-amzn-requestid': 'r-1' }, body: Readable.from([Buffer.from(text)]) } };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
  };
}

function clientsFor(account: string) {
  const sent: SentRequest[] = [];
  const options = { region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }, requestHandler: recorded(account, sent), maxAttempts: 1 };
  return {
    sent,
    clients: { quotas: new ServiceQuotasClient(options), ec2: new EC2Client(options), lambda: new LambdaClient(options) },
  };
}

const inputs: PreflightInputs = {
  region: 'us-east-1',
  config: { platforms: ['discord', 'slack'], frontEndConcurrency: 20, fleet: { instanceTypes: ['g6.xlarge', 'g5.2xlarge', 'g6e.xlarge'], maxInstances: 2 } },
};

describe('preflight', () => {
  it('GIVEN a new account THEN each check fails and says exactly what to request', async () => {
    const { clients, sent } = clientsFor('new-account');
    const checks = await runPreflight(clients, inputs);
    const byName = new Map(checks.map((check) => [check.name, check]));

    const spot = byName.get('Spot GPU vCPU quota')!;
    expect(spot.ok).toBe(false);
    // No quota applied yet: AWS's default (0) was asked for; 2 instances × 8 vCPUs (g5.2xlarge, the largest) = 16.
    expect(sent.map((s) => s.operation)).toContain('GetAWSDefaultServiceQuota');
    expect(spot.detail).toBe('"All G and VT Spot Instance Requests" is 0 vCPUs in us-east-1; 2 instance(s) of up to 8 vCPUs need 16');
    expect(spot.action).toMatch(/^No GPU instance can start until this is raised\. Request 16 vCPUs/);
    expect(spot.action).toContain('aws service-quotas request-service-quota-increase --service-code ec2 --quota-code L-3819A6DF --desired-value 16 --region us-east-1');

    const zones = byName.get('GPU types offered in the VPC zones')!;
    expect(zones.ok).toBe(false);
    expect(zones.detail).toBe('zones us-east-1a, us-east-1b, us-east-1c: g6.xlarge in us-east-1a; g5.2xlarge in us-east-1a; g6e.xlarge in none');
    // The offerings were asked for the three zones SST's Vpc takes (first available by name; the local zone left out).
    const offeringsRequest = sent.find((s) => s.operation === 'DescribeInstanceTypeOfferings')!.body;
    expect(offeringsRequest).toContain('Filter.2.Value.1=us-east-1a&Filter.2.Value.2=us-east-1b&Filter.2.Value.3=us-east-1c');
    expect(offeringsRequest).not.toContain('bos');

    const lambda = byName.get('Lambda concurrency')!;
    expect(lambda.ok).toBe(false);
    expect(lambda.detail).toBe('account limit 10 concurrent executions in us-east-1; the discord and slack function(s) reserve 40 and Lambda keeps 100 unreserved');
    expect(lambda.action).toContain('--service-code lambda --quota-code L-B99A9384 --desired-value 140 --region us-east-1');

    expect(formatPreflight(checks)).toMatch(/3 check\(s\) failed: request the quotas above/);
  });

  it('GIVEN an account with its quotas raised THEN every check passes and nothing is requested', async () => {
    const { clients, sent } = clientsFor('ready-account');
    const checks = await runPreflight(clients, inputs);
    expect(checks.map((check) => [check.name, check.ok])).toEqual([
      ['Spot GPU vCPU quota', true],
      ['GPU types offered in the VPC zones', true],
      ['Lambda concurrency', true],
    ]);
    expect(checks.every((check) => check.action === undefined)).toBe(true);
    expect(sent.map((s) => s.operation)).not.toContain('GetAWSDefaultServiceQuota');
    expect(checks[0]!.detail).toContain('is 32 vCPUs');
    expect(formatPreflight(checks)).toMatch(/All checks passed\.\n$/);
  });

  it('GIVEN a larger fleet than the raised quota allows THEN the spot check fails with the new figure', async () => {
    const { clients } = clientsFor('ready-account');
    const checks = await runPreflight(clients, { ...inputs, config: { ...inputs.config, fleet: { ...inputs.config.fleet, maxInstances: 5 } } });
    expect(checks[0]).toMatchObject({ ok: false });
    expect(checks[0]!.action).toContain('--desired-value 40 ');
  });
});
