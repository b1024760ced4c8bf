import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { botPolicyEnvironment, functionEnvironment, runnerEnvironment } from '../../infra/runtime-env.ts';

const shared = {
  region: 'eu-west-1',
  jobsQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs.fifo',
  eventsQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/events.fifo',
  bucket: 'cascade-bot-prod-imagesbucket-abc123',
  maxReceives: 5,
  visibilitySeconds: 600,
};

describe('runtime environment by role', () => {
  it('GIVEN the runner environment infra renders THEN core/config reads it as a CUDA runner watching for spot notices', () => {
    const config = loadConfig({ ...runnerEnvironment({ ...shared, fleetGroupName: 'grp', jobsDlqUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs-dlq.fifo', maxJobAgeSeconds: 5400 }), MODEL_DIR: '/models/stable-cascade', RUNNER_ID: 'i-0abc' });
    expect(config.aws.region).toBe('eu-west-1');
    expect(config.aws.sqsEndpoint).toBeUndefined();
    expect(config.jobsQueueUrl).toBe(shared.jobsQueueUrl);
    expect(config.eventsQueueUrl).toBe(shared.eventsQueueUrl);
    expect(config.bucket).toBe(shared.bucket);
    expect(config.runner).toMatchObject({ maxReceives: 5, visibilitySeconds: 600, spotMetadataUrl: 'http://169.254.169.254', drainTimeoutSeconds: 90, runnerId: 'i-0abc', fleetGroupName: 'grp', maxJobAgeSeconds: 5400 });
    expect(config.jobsDlqUrl).toBe('https://sqs.eu-west-1.amazonaws.com/123456789012/jobs-dlq.fifo');
    expect(config.log.json).toBe(true);
    expect(config).toMatchObject({ model: { dir: '/models/stable-cascade', provider: 'cuda' } });
  });

  it('GIVEN a function environment with Discord secrets THEN core/config reads them, and no AWS_REGION is set (Lambda reserves it)', () => {
    const env = functionEnvironment({ ...shared, fleetGroupName: 'grp' }, { discordApplicationId: '123', discordPublicKey: 'ab'.repeat(32), discordToken: 'bot-token' });
    expect(env).not.toHaveProperty('AWS_REGION');
    expect(env.FLEET_GROUP_NAME).toBe('grp');
    const config = loadConfig({ ...env, AWS_REGION: 'eu-west-1' });
    expect(config.discord).toEqual({ applicationId: '123', publicKey: 'ab'.repeat(32), token: 'bot-token' });
    expect(config.slack.botToken).toBeUndefined();
    expect(config.runner.maxReceives).toBe(5);
  });

  it('GIVEN no secrets THEN no secret variable is set at all', () => {
    const env = functionEnvironment({ ...shared, fleetGroupName: 'grp' });
    expect(Object.keys(env).filter((name) => /TOKEN|SECRET|PUBLIC_KEY/.test(name))).toEqual([]);
  });
});

describe('bot policy forwarded from the deploy environment', () => {
  it('GIVEN moderation and cap variables at deploy time THEN exactly those reach the functions and the bot reads them', () => {
    const forwarded = botPolicyEnvironment({
      MODERATION_BLOCKLIST: 'gore, blood bath',
      ALLOWED_WORKSPACES: 'T123',
      MAX_PENDING_PER_USER: '2',
      ALLOWED_CHANNELS: '  ',
      AWS_SECRET_ACCESS_KEY: 'never-forwarded',
      PATH: '/usr/bin',
    });
    expect(forwarded).toEqual({ MODERATION_BLOCKLIST: 'gore, blood bath', ALLOWED_WORKSPACES: 'T123', MAX_PENDING_PER_USER: '2' });
    expect(loadConfig(forwarded).moderation).toMatchObject({ blocklist: ['gore', 'blood bath'], allowedWorkspaces: ['T123'] });
    expect(loadConfig(forwarded).maxPendingPerUser).toBe(2);
  });
});
