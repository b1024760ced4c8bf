/**
 * `npm run preflight -- --stage prod [--region us-east-1]`: checks the account's quotas and offerings for the
 * configuration a deploy of that stage would use (the same CASCADE_ variables and infra/stages.json), and says
 * exactly what to request. Read-only: needs servicequotas:GetServiceQuota, GetAWSDefaultServiceQuota,
 * ec2:DescribeInstanceTypes, DescribeInstanceTypeOfferings, DescribeAvailabilityZones, lambda:GetAccountSettings.
 */
import { parseArgs } from 'node:util';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { EC2Client } from '@aws-sdk/client-ec2';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { loadInfraConfig } from '../config.ts';
import { formatPreflight, runPreflight } from '../preflight.ts';
import { stageSettings } from '../stages.ts';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { stage: { type: 'string' }, region: { type: 'string' } } });
  const region = values.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!values.stage || !region) {
    process.stderr.write('usage: npm run preflight -- --stage <stage> [--region <region>]   (or set AWS_REGION)\n');
    return 2;
  }
  const config = loadInfraConfig(process.env, stageSettings(values.stage));
  const checks = await runPreflight(
    { quotas: new ServiceQuotasClient({ region }), ec2: new EC2Client({ region }), lambda: new LambdaClient({ region }) },
    { region, config },
  );
  process.stdout.write(formatPreflight(checks));
  return checks.every((check) => check.ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
    process.exit(1);
  },
);
