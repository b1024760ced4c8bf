/**
 * Checks an AWS account before the first deploy, for what `sst deploy` cannot see: a deploy "succeeds" in a
 * new account and then no GPU ever starts (spot G/VT vCPU quota 0), a configured GPU type exists in none of
 * the app's availability zones, or the functions' reserved concurrency does not fit the account's Lambda
 * concurrency (a new account has 10, and AWS keeps 100 unreserved). Each failed check says exactly what to
 * request, as the `aws service-quotas` command to run.
 *
 * The clients are injected (tests answer them with recorded AWS responses); `npm run preflight` builds real ones.
 */
import { GetAWSDefaultServiceQuotaCommand, GetServiceQuotaCommand, type ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { DescribeAvailabilityZonesCommand, DescribeInstanceTypeOfferingsCommand, DescribeInstanceTypesCommand, type EC2Client, type _InstanceType } from '@aws-sdk/client-ec2';
import { GetAccountSettingsCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { InfraConfig } from './config.ts';

/** Service Quotas codes (Service Quotas console → Amazon EC2 / AWS Lambda). */
export const QUOTAS = {
  spotGpu: { serviceCode: 'ec2', quotaCode: 'L-3819A6DF', name: 'All G and VT Spot Instance Requests' },
  lambdaConcurrency: { serviceCode: 'lambda', quotaCode: 'L-B99A9384', name: 'Concurrent executions' },
} as const;

/** The app's VPC spans this many zones (infra/resources/network.ts), chosen as SST's Vpc does: the first available ones by name. */
export const VPC_ZONE_COUNT = 3;
/** Lambda refuses a reservation that leaves fewer unreserved executions than this. */
export const LAMBDA_MIN_UNRESERVED = 100;

export interface PreflightClients {
  quotas: Pick<ServiceQuotasClient, 'send'>;
  ec2: Pick<EC2Client, 'send'>;
  lambda: Pick<LambdaClient, 'send'>;
}

export interface PreflightCheck {
  name: string;
  ok: boolean;
  /** What was found, in a sentence. */
  detail: string;
  /** What to do when not ok: the exact request or setting. */
  action?: string;
}

export interface PreflightInputs {
  region: string;
  config: Pick<InfraConfig, 'platforms' | 'frontEndConcurrency'> & { fleet: Pick<InfraConfig['fleet'], 'instanceTypes' | 'maxInstances'> };
}

const requestCommand = (quota: { serviceCode: string; quotaCode: string }, value: number, region: string) =>
  `aws service-quotas request-service-quota-increase --service-code ${quota.serviceCode} --quota-code ${quota.quotaCode} --desired-value ${value} --region ${region}`;

/** The applied quota value, or AWS's default where the account never had one applied (NoSuchResourceException). */
async function quotaValue(clients: PreflightClients, quota: { serviceCode: string; quotaCode: string }): Promise<number> {
  try {
    const answer = await clients.quotas.send(new GetServiceQuotaCommand({ ServiceCode: quota.serviceCode, QuotaCode: quota.quotaCode }));
    return answer.Quota?.Value ?? 0;
  } catch (error) {
    if (!(error instanceof Error) || error.name !== 'NoSuchResourceException') throw error;
    const fallback = await clients.quotas.send(new GetAWSDefaultServiceQuotaCommand({ ServiceCode: quota.serviceCode, QuotaCode: quota.quotaCode }));
    return fallback.Quota?.Value ?? 0;
  }
}

export async function runPreflight(clients: PreflightClients, { region, config }: PreflightInputs): Promise<PreflightCheck[]> {
  const types = config.fleet.instanceTypes;
  const checks: PreflightCheck[] = [];

  // 1. Spot G/VT vCPUs: enough for the whole fleet at its largest configured type.
  const described = await clients.ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: types as _InstanceType[] }));
  const vcpus = new Map((described.InstanceTypes ?? []).map((t) => [t.InstanceType as string, t.VCpuInfo?.DefaultVCpus ?? 0]));
  const unknown = types.filter((type) => !vcpus.has(type));
  const largest = Math.max(0, ...vcpus.values());
  const neededVcpus = config.fleet.maxInstances * largest;
  const spotQuota = await quotaValue(clients, QUOTAS.spotGpu);
  checks.push({
    name: 'Spot GPU vCPU quota',
    ok: spotQuota >= neededVcpus,
    detail: `"${QUOTAS.spotGpu.name}" is ${spotQuota} vCPUs in ${region}; ${config.fleet.maxInstances} instance(s) of up to ${largest} vCPUs need ${neededVcpus}`,
    ...(spotQuota >= neededVcpus
      ? {}
      : {
          action:
            `${spotQuota === 0 ? 'No GPU instance can start until this is raised. ' : ''}Request ${neededVcpus} vCPUs (Service Quotas → Amazon EC2 → ${QUOTAS.spotGpu.name}): ` +
            requestCommand(QUOTAS.spotGpu, neededVcpus, region),
        }),
  });
  if (unknown.length > 0) {
    checks.push({ name: 'Instance types exist', ok: false, detail: `${unknown.join(', ')} unknown to EC2 in ${region}`, action: 'Remove them from CASCADE_FLEET_INSTANCE_TYPES' });
  }

  // 2. Offerings in the zones the VPC will use.
  const zonesAnswer = await clients.ec2.send(new DescribeAvailabilityZonesCommand({ Filters: [{ Name: 'state', Values: ['available'] }] }));
  const zones = (zonesAnswer.AvailabilityZones ?? [])
    .filter((zone) => (zone.ZoneType ?? 'availability-zone') === 'availability-zone' && zone.ZoneName)
    .map((zone) => zone.ZoneName!)
    .sort()
    .slice(0, VPC_ZONE_COUNT);
  const offerings = await clients.ec2.send(
    new DescribeInstanceTypeOfferingsCommand({
      LocationType: 'availability-zone',
      Filters: [
        { Name: 'instance-type', Values: types },
        { Name: 'location', Values: zones },
      ],
    }),
  );
  const offered = new Map<string, Set<string>>(types.map((type) => [type, new Set<string>()]));
  for (const offering of offerings.InstanceTypeOfferings ?? []) {
    if (offering.InstanceType && offering.Location) offered.get(offering.InstanceType)?.add(offering.Location);
  }
  const coveredZones = new Set([...offered.values()].flatMap((set) => [...set]));
  const absent = types.filter((type) => offered.get(type)!.size === 0);
  checks.push({
    name: 'GPU types offered in the VPC zones',
    ok: coveredZones.size >= 2,
    detail:
      `zones ${zones.join(', ')}: ` +
      types.map((type) => `${type} in ${offered.get(type)!.size > 0 ? [...offered.get(type)!].sort().join('/') : 'none'}`).join('; '),
    ...(coveredZones.size >= 2
      ? absent.length > 0
        ? { action: `${absent.join(', ')} cannot launch here (harmless, but they add no spot pools)` }
        : {}
      : { action: `Fewer than 2 zones can launch any configured type: add types offered there to CASCADE_FLEET_INSTANCE_TYPES, or deploy to another region` }),
  });

  // 3. Lambda concurrency for the reservations of the chat front ends.
  const settings = await clients.lambda.send(new GetAccountSettingsCommand({}));
  const limit = settings.AccountLimit?.ConcurrentExecutions ?? 0;
  const reserved = config.platforms.length * config.frontEndConcurrency;
  const neededConcurrency = reserved + LAMBDA_MIN_UNRESERVED;
  checks.push({
    name: 'Lambda concurrency',
    ok: limit >= neededConcurrency,
    detail: `account limit ${limit} concurrent executions in ${region}; the ${config.platforms.join(' and ')} function(s) reserve ${reserved} and Lambda keeps ${LAMBDA_MIN_UNRESERVED} unreserved`,
    ...(limit >= neededConcurrency
      ? {}
      : {
          action:
            `The deploy fails until this is raised (or lower CASCADE_FRONT_END_CONCURRENCY). Request ${neededConcurrency} (Service Quotas → AWS Lambda → ${QUOTAS.lambdaConcurrency.name}): ` +
            requestCommand(QUOTAS.lambdaConcurrency, neededConcurrency, region),
        }),
  });
  return checks;
}

export function formatPreflight(checks: readonly PreflightCheck[]): string {
  const lines = checks.flatMap((check) => [`${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}`, ...(check.action ? [`     → ${check.action}`] : [])]);
  const failed = checks.filter((check) => !check.ok).length;
  lines.push(failed === 0 ? 'All checks passed.' : `${failed} check(s) failed: request the quotas above (increases take minutes to days), then run this again.`);
  return `${lines.join('\n')}\n`;
}
