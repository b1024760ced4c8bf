import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig, redactConfig, redactSecrets } from '../../core/config.ts';
import { ConfigError } from '../../core/errors.ts';
import { jobIdFrom } from '../../core/ids.ts';
import { JobIdSchema } from '../../core/job.ts';
import { applyStyle } from '../../core/styles.ts';

const secrets = {
  DISCORD_TOKEN: 'discord-token-value-123',
  DISCORD_PUBLIC_KEY: 'discord-public-key-456',
  SLACK_BOT_TOKEN: 'xoxb-slack-bot-789',
  SLACK_SIGNING_SECRET: 'slack-signing-secret-abc',
  SLACK_APP_TOKEN: 'xapp-slack-app-def',
  AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEKEY',
  AWS_SECRET_ACCESS_KEY: 'aws-secret-access-key-ghi',
};

describe('loadConfig', () => {
  it('GIVEN an empty environment THEN defaults apply', () => {
    const config = loadConfig({});
    expect(config.maxPendingPerUser).toBe(3);
    expect(config.runner).toMatchObject({ maxReceives: 4, visibilitySeconds: 300, heartbeatSeconds: 60, drainTimeoutSeconds: 90 });
    expect(config.jobsQueueUrl).toBeUndefined();
  });

  it('GIVEN one emulator endpoint THEN both services use it', () => {
    const config = loadConfig({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' });
    expect(config.aws).toMatchObject({ sqsEndpoint: 'http://127.0.0.1:4566', s3Endpoint: 'http://127.0.0.1:4566' });
  });

  it('GIVEN several bad variables THEN every one is named, and no value is echoed', () => {
    let error: unknown;
    try {
      loadConfig({ MAX_PENDING_PER_USER: 'lots', JOBS_QUEUE_URL: 'not a url secretish', BUCKET: 'Bad_Bucket', LOG_LEVEL: 'loud' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.join('\n');
    for (const name of ['MAX_PENDING_PER_USER', 'JOBS_QUEUE_URL', 'BUCKET', 'LOG_LEVEL']) expect(issues).toContain(name);
    expect(issues).not.toContain('secretish');
  });

  it.each(['abc', '70000', '-1', '3000.5', '0x50'])('GIVEN WEB_PORT=%s THEN the error names the setting and the accepted range', (value) => {
    expect(() => loadConfig({ WEB_PORT: value })).toThrow('WEB_PORT: must be a whole number from 0 to 65535 (0 = any free port)');
    expect(() => loadConfig({ LOCAL_EMULATOR_PORT: value })).toThrow('LOCAL_EMULATOR_PORT: must be a whole number from 0 to 65535 (0 = any free port)');
  });

  it('GIVEN WEB_PORT and WEB_PUBLIC_HOST THEN they are read; a public host with a path or a scheme is refused', () => {
    expect(loadConfig({ WEB_PORT: ' 8080 ', WEB_PUBLIC_HOST: 'Play.Example.org:8443' }).local).toMatchObject({ webPort: 8080, publicHost: 'play.example.org:8443' });
    expect(loadConfig({}).local.webPort).toBe(3000);
    for (const bad of ['https://play.example.org', 'play.example.org/x', 'a b']) expect(() => loadConfig({ WEB_PUBLIC_HOST: bad })).toThrow(/WEB_PUBLIC_HOST: must be a host name/);
  });

  it('GIVEN ORT_CPU_THREADS THEN the runner gets that many threads per CPU session; 0 (the default) leaves it to onnxruntime; anything else is refused by name', () => {
    expect(loadConfig({}).model.cpuThreads).toBe(0);
    expect(loadConfig({ ORT_CPU_THREADS: '1' }).model.cpuThreads).toBe(1);
    for (const bad of ['-1', '1.5', 'two', '999']) expect(() => loadConfig({ ORT_CPU_THREADS: bad })).toThrow(/ORT_CPU_THREADS/);
  });

  it('GIVEN a heartbeat not shorter than the visibility timeout THEN it is rejected with both numbers', () => {
    expect(() => loadConfig({ HEARTBEAT_SECONDS: '30', JOB_VISIBILITY_SECONDS: '30' })).toThrow(/HEARTBEAT_SECONDS \(30\) must be less than JOB_VISIBILITY_SECONDS \(30\)/);
  });

  it('GIVEN only half of the AWS key pair THEN it is rejected', () => {
    expect(() => loadConfig({ AWS_ACCESS_KEY_ID: 'x1234' })).toThrow(/set both or neither/);
  });

  it('GIVEN every secret set THEN the redacted view contains none of them', () => {
    const config = loadConfig(secrets);
    const logged = JSON.stringify(redactConfig(config));
    for (const value of Object.values(secrets)) expect(logged).not.toContain(value);
    expect(logged).toContain('[set]');
    expect(config.discord.token).toBe(secrets.DISCORD_TOKEN);
  });

  it('GIVEN moderation lists THEN they are read here like every other variable, blank items and blank lists dropped', () => {
    const env = { MODERATION_BLOCKLIST: ' gore, blood bath ,', MODERATION_RESTRICTED: 'nude', ALLOWED_WORKSPACES: ' , ', ALLOWED_CHANNELS: 'c1,c2' };
    const expected = { blocklist: ['gore', 'blood bath'], restrictedOnly: ['nude'], allowedChannels: ['c1', 'c2'] };
    expect(loadConfig(env).moderation).toEqual(expected);
    expect(loadConfig({}).moderation).toEqual({ blocklist: [], restrictedOnly: [] });
    expect(CONFIG_VARIABLES).toEqual(expect.arrayContaining(['MODERATION_BLOCKLIST', 'MODERATION_RESTRICTED', 'ALLOWED_WORKSPACES', 'ALLOWED_CHANNELS']));
  });

  it('GIVEN a library error that quotes a secret THEN redactSecrets hides it', () => {
    expect(redactSecrets(`401 for token ${secrets.SLACK_BOT_TOKEN}`, secrets)).toBe('401 for token [SLACK_BOT_TOKEN]');
  });
});

describe('jobIdFrom', () => {
  it('GIVEN the same interaction id THEN the same valid job id; different ids differ', () => {
    const a = jobIdFrom('discord:1184343545534341120');
    expect(JobIdSchema.safeParse(a).success).toBe(true);
    expect(jobIdFrom('discord:1184343545534341120')).toBe(a);
    expect(jobIdFrom('discord:1184343545534341121')).not.toBe(a);
  });

  it('GIVEN no interaction id THEN a fresh valid id each time', () => {
    const a = jobIdFrom();
    expect(JobIdSchema.safeParse(a).success).toBe(true);
    expect(jobIdFrom()).not.toBe(a);
  });
});

describe('applyStyle', () => {
  it('GIVEN a style THEN its suffix and negative are appended to the user text', () => {
    const styled = applyStyle({ prompt: 'fox', negativePrompt: 'fog', style: 'watercolor' });
    expect(styled.prompt).toBe('fox, watercolor painting, soft washes, paper texture');
    expect(styled.negativePrompt).toBe('fog, photo, 3d render, hard edges');
  });

  it('GIVEN no style THEN the text is unchanged', () => {
    expect(applyStyle({ prompt: 'fox', negativePrompt: '' })).toEqual({ prompt: 'fox', negativePrompt: '' });
  });
});
