import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.ts';
import { loadInfraConfig } from '../../infra/config.ts';
import { DEFAULT_INSTANCE_TYPES, instanceTypeProblems } from '../../infra/instance-types.ts';

function issuesOf(env: Record<string, string>): string[] {
  try {
    loadInfraConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('infra config', () => {
  it('GIVEN no CASCADE_ variables THEN defaults: both platforms, scale-to-zero spot fleet over the default GPU types', () => {
    const config = loadInfraConfig({ PATH: '/usr/bin', HOME: '/root' });
    expect(config.platforms).toEqual(['discord', 'slack']);
    expect(config.fleet).toMatchObject({ minInstances: 0, maxInstances: 2, jobsPerInstance: 3, scaleInDelayMinutes: 10, ssmAccess: false });
    expect(config.fleet.instanceTypes).toEqual([...DEFAULT_INSTANCE_TYPES]);
    expect(config.model.name).toBe('stable-cascade');
    expect(config.jobs).toEqual({ maxReceives: 4, visibilitySeconds: 300, maxAgeMinutes: 120 });
    expect(config.fleet.bootTimeoutMinutes).toBe(20);
    expect(config.frontEndConcurrency).toBe(20);
    expect(config.alarms).toMatchObject({ emails: [], idleFleetHours: 3, monthlyBudgetUsd: 0 });
  });

  it('GIVEN every setting THEN each is parsed, trimmed and typed', () => {
    const config = loadInfraConfig({
      CASCADE_PLATFORMS: 'slack',
      CASCADE_FLEET_INSTANCE_TYPES: ' g6e.xlarge , g5.2xlarge ',
      CASCADE_FLEET_MIN_INSTANCES: '1',
      CASCADE_FLEET_MAX_INSTANCES: '8',
      CASCADE_JOBS_PER_INSTANCE: '5',
      CASCADE_SCALE_IN_DELAY_MINUTES: '30',
      CASCADE_FLEET_SSM_ACCESS: 'yes',
      CASCADE_MODEL_NAME: 'stable-cascade-lite',
      CASCADE_RUNNER_IMAGE_TAG: 'v1.2.3',
      CASCADE_JOB_MAX_RECEIVES: '6',
      CASCADE_JOB_MAX_AGE_MINUTES: '30',
      CASCADE_BOOT_TIMEOUT_MINUTES: '15',
      CASCADE_FRONT_END_CONCURRENCY: '50',
      CASCADE_IDLE_FLEET_ALARM_HOURS: '6',
    }, { alarmEmails: ['ops@example.com', 'oncall@example.com'], monthlyBudgetUsd: 150 });
    expect(config.platforms).toEqual(['slack']);
    expect(config.fleet).toMatchObject({ instanceTypes: ['g6e.xlarge', 'g5.2xlarge'], minInstances: 1, maxInstances: 8, jobsPerInstance: 5, scaleInDelayMinutes: 30, ssmAccess: true });
    expect(config.model.name).toBe('stable-cascade-lite');
    expect(config.runnerImageTag).toBe('v1.2.3');
    expect(config.jobs).toEqual({ maxReceives: 6, visibilitySeconds: 300, maxAgeMinutes: 30 });
    expect(config.fleet.bootTimeoutMinutes).toBe(15);
    expect(config.frontEndConcurrency).toBe(50);
    expect(config.alarms).toMatchObject({ emails: ['ops@example.com', 'oncall@example.com'], idleFleetHours: 6, monthlyBudgetUsd: 150 });
  });

  it('GIVEN several bad variables THEN one ConfigError names each of them, never echoing a value', () => {
    const issues = issuesOf({
      CASCADE_PLATFORMS: 'discord,teams',
      CASCADE_FLEET_MAX_INSTANCES: 'lots',
      CASCADE_JOB_VISIBILITY_SECONDS: '30',
      CASCADE_MODEL_NAME: '../etc',
      CASCADE_JOB_MAX_AGE_MINUTES: '10000',
      CASCADE_ALARM_EMAIL: 'not-an-address',
    });
    expect(issues.some((issue) => issue.startsWith('CASCADE_FLEET_MAX_INSTANCES:'))).toBe(true);
    expect(issues.some((issue) => issue.startsWith('CASCADE_JOB_VISIBILITY_SECONDS:'))).toBe(true);
    expect(issues.some((issue) => issue.startsWith('CASCADE_MODEL_NAME:') && issue.includes('models/<name>/'))).toBe(true);
    // A job can be at most 4 days old: the queue's retention.
    expect(issues.some((issue) => issue.startsWith('CASCADE_JOB_MAX_AGE_MINUTES:'))).toBe(true);
    // Alarm e-mails moved to the committed per-stage file; the old variable says where.
    expect(issues).toContain('CASCADE_ALARM_EMAIL: alarm e-mails are set per stage in infra/stages.json ("alarmEmails"), not in the deploying shell');
    expect(issues.join('\n')).not.toContain('not-an-address');
  });

  it('GIVEN an unknown platform THEN the message lists the allowed ones', () => {
    expect(issuesOf({ CASCADE_PLATFORMS: 'discord,teams' })).toEqual([
      'CASCADE_PLATFORMS: teams unknown (use discord, slack or both, comma-separated)',
    ]);
  });

  it('GIVEN min above max THEN both numbers are in the message', () => {
    expect(issuesOf({ CASCADE_FLEET_MIN_INSTANCES: '3', CASCADE_FLEET_MAX_INSTANCES: '2' })).toEqual([
      'CASCADE_FLEET_MIN_INSTANCES (3) must not exceed CASCADE_FLEET_MAX_INSTANCES (2)',
    ]);
  });

  it('GIVEN unusable, duplicated or no instance types THEN each problem is reported against the variable', () => {
    const issues = issuesOf({ CASCADE_FLEET_INSTANCE_TYPES: 'g6.xlarge,g6.xlarge,g4dn.xlarge,g5.12xlarge,m7i.large,banana' });
    expect(issues).toEqual([
      expect.stringMatching(/^CASCADE_FLEET_INSTANCE_TYPES: g4dn\.xlarge: its NVIDIA T4 has 16 GiB/),
      expect.stringMatching(/^CASCADE_FLEET_INSTANCE_TYPES: g5\.12xlarge: the runner uses one GPU per instance/),
      expect.stringMatching(/^CASCADE_FLEET_INSTANCE_TYPES: m7i\.large: family "m7i" is not a supported/),
      expect.stringMatching(/^CASCADE_FLEET_INSTANCE_TYPES: "banana" is not an EC2 instance type/),
      'CASCADE_FLEET_INSTANCE_TYPES: g6.xlarge listed twice',
    ]);
    expect(issuesOf({ CASCADE_FLEET_INSTANCE_TYPES: ' , ' })).toEqual(['CASCADE_FLEET_INSTANCE_TYPES: name at least one GPU instance type']);
  });

  it('GIVEN a lower GPU memory floor THEN 16 GiB T4 instances are accepted', () => {
    const config = loadInfraConfig({ CASCADE_FLEET_INSTANCE_TYPES: 'g4dn.xlarge', CASCADE_MIN_GPU_MEMORY_GIB: '16' });
    expect(config.fleet.instanceTypes).toEqual(['g4dn.xlarge']);
  });

  it('GIVEN the default instance types THEN none has a problem', () => {
    for (const type of DEFAULT_INSTANCE_TYPES) expect(instanceTypeProblems(type, 20)).toEqual([]);
  });
});
