import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { heredoc, renderDrainAgent, renderEnvFile, renderUserData, shellQuote, type UserDataParams } from '../../infra/user-data.ts';
import { DOCKER_STOP_SECONDS, runnerEnvironment } from '../../infra/runtime-env.ts';
import { CONFIG_VARIABLES, loadConfig } from '../../core/config.ts';
import { fleetRunnerGaps } from '../../gpu-runner/main.ts';

const params: UserDataParams = {
  region: 'eu-west-1',
  bucket: 'cascade-bot-prod-imagesbucket-abc123',
  modelName: 'stable-cascade',
  imageUri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/cascade-bot-prod-runner:v7',
  fleetGroupName: 'cascade-bot-prod-gpu-fleet',
  lifecycleHookName: 'drain-runner',
  launchHookName: 'runner-ready',
  logGroupName: '/cascade-bot/prod/runner',
  drainStopSeconds: DOCKER_STOP_SECONDS,
  runnerEnv: runnerEnvironment({
    region: 'eu-west-1',
    jobsQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs.fifo',
    jobsDlqUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs-dlq.fifo',
    eventsQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/events.fifo',
    bucket: 'cascade-bot-prod-imagesbucket-abc123',
    maxReceives: 4,
    visibilitySeconds: 300,
    maxJobAgeSeconds: 7200,
    fleetGroupName: 'cascade-bot-prod-gpu-fleet',
  }),
};

/** The boot script up to the env files, runnable here: no log redirection, no systemd, no instance metadata. */
function bootScriptUpToEnvFiles(): string {
  const script = renderUserData(params).replaceAll('/etc/cascade', join(dir, 'etc'));
  return script
    .slice(0, script.indexOf('cat > /usr/local/bin/cascade-drain-agent'))
    .replace(/^systemctl .*$/m, ':')
    .replace(/^exec > .*$/m, ':')
    .replace(/^instance_id=.*$/m, 'instance_id=i-0abc123');
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cascade-userdata-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('user data', () => {
  it('GIVEN the fleet parameters THEN the boot script is valid bash', () => {
    const script = renderUserData(params);
    writeFileSync(join(dir, 'boot.sh'), script);
    const check = spawnSync('bash', ['-n', join(dir, 'boot.sh')], { encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('GIVEN the fleet parameters THEN the runner starts with the GPU, its env file, the read-only model cache and the drain budget', () => {
    const script = renderUserData(params);
    // The version the pointer names, synced into its own folder and handed to the runner as MODEL_DIR.
    expect(script).toContain("version=$(aws s3 cp 's3://cascade-bot-prod-imagesbucket-abc123/models/stable-cascade/current' - --region 'eu-west-1')");
    expect(script).toContain(`aws s3 sync 's3://cascade-bot-prod-imagesbucket-abc123/models/stable-cascade/'"$version/" "$model_dir"`);
    expect(script).toContain(`model_dir='/opt/cascade/models/stable-cascade'/"$version"`);
    expect(script).toContain('-e MODEL_DIR=/models/stable-cascade/"$version"');
    expect(script).not.toContain('--delete');
    expect(script).toContain("docker login --username AWS --password-stdin '123456789012.dkr.ecr.eu-west-1.amazonaws.com'");
    expect(script).toMatch(/docker run -d --name cascade-runner --gpus all --restart unless-stopped/);
    expect(script).toContain(`--stop-timeout ${DOCKER_STOP_SECONDS}`);
    expect(script).toContain('--env-file /etc/cascade/runner.env -e RUNNER_ID="$instance_id"');
    expect(script).toContain('-v /opt/cascade/models:/models:ro');
    expect(script).toContain("'123456789012.dkr.ecr.eu-west-1.amazonaws.com/cascade-bot-prod-runner:v7'");
    expect(script).toContain('systemctl enable --now cascade-drain.service');
  });

  it('GIVEN the boot script is run up to its env files THEN the runner and drain env files hold exactly the values core/config reads', () => {
    const upToEnv = bootScriptUpToEnvFiles();
    execFileSync('bash', ['-c', upToEnv]);
    const runnerEnv = readFileSync(join(dir, 'etc/runner.env'), 'utf8').trim().split('\n');
    expect(runnerEnv).toEqual([
      'AWS_REGION=eu-west-1',
      'JOBS_QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/jobs.fifo',
      'EVENTS_QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/events.fifo',
      'BUCKET=cascade-bot-prod-imagesbucket-abc123',
      'JOB_MAX_RECEIVES=4',
      'JOB_VISIBILITY_SECONDS=300',
      'LOG_JSON=true',
      'JOB_MAX_AGE_SECONDS=7200',
      'JOBS_DLQ_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/jobs-dlq.fifo',
      'FLEET_GROUP_NAME=cascade-bot-prod-gpu-fleet',
      'SPOT_METADATA_URL=http://169.254.169.254',
      'DRAIN_TIMEOUT_SECONDS=90',
      'ORT_PROVIDER=cuda',
      'LAUNCH_HOOK_NAME=runner-ready',
    ]);
    expect(readFileSync(join(dir, 'etc/drain.env'), 'utf8')).toBe(
      'REGION=eu-west-1\nASG_NAME=cascade-bot-prod-gpu-fleet\nHOOK_NAME=drain-runner\nLAUNCH_HOOK_NAME=runner-ready\nSTOP_SECONDS=110\n',
    );
  });

  it('GIVEN the env file the boot script writes (plus RUNNER_ID from docker run) THEN the runner lacks nothing it needs and no name is one it ignores', () => {
    const script = renderUserData(params);
    execFileSync('bash', ['-c', bootScriptUpToEnvFiles()]);
    const lines = readFileSync(join(dir, 'etc/runner.env'), 'utf8').trim().split('\n');
    const env = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
    expect(script).toContain('-e RUNNER_ID="$instance_id"');
    expect(script).toMatch(/-e BOOT_PHASES="os_boot=\$phase_os,script_start=\$phase_start,disk_ready=\$phase_disk,model_synced=\$phase_model,image_pulled=\$phase_image"/);
    const deployed: Record<string, string> = { ...env, RUNNER_ID: 'i-0abc123', MODEL_DIR: '/models/stable-cascade/v1', BOOT_PHASES: 'os_boot=1' };
    expect(Object.keys(deployed).filter((name) => !CONFIG_VARIABLES.includes(name))).toEqual([]);
    expect(fleetRunnerGaps(loadConfig(deployed))).toEqual([]);
    // The check can fail: without the DLQ URL or the group name the runner silently loses a feature.
    const { JOBS_DLQ_URL: _dlq, FLEET_GROUP_NAME: _group, ...partial } = deployed;
    expect(fleetRunnerGaps(loadConfig(partial)).map((gap) => gap.split(':')[0])).toEqual(['JOBS_DLQ_URL', 'FLEET_GROUP_NAME']);
  });

  it('GIVEN hostile characters THEN quoting and heredocs write them literally, nothing is executed', () => {
    const hostile = `a'b "$(touch ${dir}/pwned)" \`touch ${dir}/pwned2\` $HOME`;
    execFileSync('bash', ['-c', `${heredoc(join(dir, 'out'), `${hostile}\n`, 'END_MARK')}printf %s ${shellQuote(hostile)} > ${join(dir, 'quoted')}`]);
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe(`${hostile}\n`);
    expect(readFileSync(join(dir, 'quoted'), 'utf8')).toBe(hostile);
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
    expect(existsSync(join(dir, 'pwned2'))).toBe(false);
  });

  it('GIVEN values an env file cannot hold THEN rendering refuses with the variable name', () => {
    expect(() => renderEnvFile({ TOKEN: 'a\nB=c' })).toThrow(/value of TOKEN contains a line break/);
    expect(() => renderEnvFile({ 'bad-name': 'x' })).toThrow(/"bad-name" is not a valid variable name/);
    expect(() => renderUserData({ ...params, imageUri: 'runner:latest' })).toThrow(/has no registry host/);
    expect(() => heredoc('/x', 'line\nEND\n', 'END')).toThrow(/contains its end marker END/);
  });
});

/** Runs the drain agent with curl, docker, aws and sleep replaced by scripts that log and read a fake IMDS from files. */
function runDrainAgent(events: Record<number, Record<string, string>>, options: { awsFailures?: number; health?: string } = {}) {
  const bin = join(dir, 'bin');
  const imds = join(dir, 'imds');
  mkdirSync(bin);
  mkdirSync(join(imds, 'meta-data/spot'), { recursive: true });
  mkdirSync(join(imds, 'meta-data/autoscaling'), { recursive: true });
  writeFileSync(join(imds, 'meta-data/instance-id'), 'i-0abc123');
  writeFileSync(join(dir, 'events.json'), JSON.stringify(events));
  const stub = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  stub('curl', `
if [[ " $* " == *" -X PUT "* ]]; then echo token-1; exit 0; fi
url="\${@: -1}"; path="\${url#*/latest/}"
[ -f "${imds}/$path" ] && cat "${imds}/$path" && exit 0
exit 22`);
  // \`docker inspect\` answers "<health> <restart count>" (a polled read, not logged); other calls are logged.
  writeFileSync(join(dir, 'health'), options.health ?? 'healthy 0');
  stub('docker', `[ "$1" = inspect ] && { cat "${dir}/health"; exit 0; }
echo "docker $*" >> "${dir}/calls"`);
  stub('aws', `echo "aws $*" >> "${dir}/calls"
n=$(cat "${dir}/aws-count" 2>/dev/null || echo 0); echo $((n+1)) > "${dir}/aws-count"
[ "$n" -lt ${options.awsFailures ?? 0} ] && exit 1
exit 0`);
  // Each sleep is one poll; the fake IMDS changes at the poll numbers given in `events`.
  stub('sleep', `
n=$(cat "${dir}/sleeps" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "${dir}/sleeps"
[ "$n" -gt 50 ] && { echo "agent never finished" >&2; exit 1; }
node -e 'const e=require("${dir}/events.json")[process.argv[1]]||{};for(const[p,v]of Object.entries(e))require("fs").writeFileSync("${imds}/"+p,v)' $n`);
  writeFileSync(join(dir, 'agent.sh'), renderDrainAgent());
  const result = spawnSync('bash', [join(dir, 'agent.sh')], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { PATH: `${bin}:${process.env.PATH}`, IMDS_URL: 'http://imds.test', STOP_SECONDS: '110', ASG_NAME: 'grp', HOOK_NAME: 'drain-runner', LAUNCH_HOOK_NAME: 'runner-ready', REGION: 'eu-west-1' },
  });
  const calls = existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n') : [];
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls };
}

const COMPLETE =
  'aws autoscaling complete-lifecycle-action --region eu-west-1 --auto-scaling-group-name grp --lifecycle-hook-name drain-runner --instance-id i-0abc123 --lifecycle-action-result CONTINUE';

describe('drain agent', () => {
  it('GIVEN a spot notice, then the lifecycle hook THEN the runner is stopped once, then the hook is completed with CONTINUE', () => {
    const run = runDrainAgent({
      2: { 'meta-data/spot/instance-action': '{"action":"terminate","time":"2026-11-26T10:02:00Z"}' },
      4: { 'meta-data/autoscaling/target-lifecycle-state': 'Terminated' },
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.calls).toEqual(['docker stop --time 110 cascade-runner', COMPLETE]);
    expect(run.stdout).toMatch(/spot interruption notice: stopping cascade-runner/);
  });

  it('GIVEN a scale-in (no spot notice) THEN it drains then completes the hook', () => {
    const run = runDrainAgent({ 1: { 'meta-data/autoscaling/target-lifecycle-state': 'InService' }, 3: { 'meta-data/autoscaling/target-lifecycle-state': 'Terminated' } });
    expect(run.status).toBe(0);
    expect(run.calls).toEqual(['docker stop --time 110 cascade-runner', COMPLETE]);
    expect(run.stdout).toMatch(/auto scaling is terminating this instance/);
  });

  it('GIVEN completing the hook fails twice THEN it retries until it succeeds', () => {
    const run = runDrainAgent({ 1: { 'meta-data/autoscaling/target-lifecycle-state': 'Terminated' } }, { awsFailures: 2 });
    expect(run.status).toBe(0);
    expect(run.calls).toEqual(['docker stop --time 110 cascade-runner', COMPLETE, COMPLETE, COMPLETE]);
    expect(run.stdout.match(/complete-lifecycle-action failed; retrying/g)).toHaveLength(2);
  });

  const ABANDON_LAUNCH =
    'aws autoscaling complete-lifecycle-action --region eu-west-1 --auto-scaling-group-name grp --lifecycle-hook-name runner-ready --instance-id i-0abc123 --lifecycle-action-result ABANDON';
  const UNHEALTHY = 'aws autoscaling set-instance-health --region eu-west-1 --instance-id i-0abc123 --health-status Unhealthy --no-should-respect-grace-period';

  it('GIVEN the runner container fails its health check THEN the pending launch is abandoned and the instance marked unhealthy, once; then the termination drains as usual', () => {
    const run = runDrainAgent({ 3: { 'meta-data/autoscaling/target-lifecycle-state': 'Terminated' } }, { health: 'unhealthy 0' });
    expect(run.status).toBe(0);
    expect(run.calls).toEqual([ABANDON_LAUNCH, UNHEALTHY, 'docker stop --time 110 cascade-runner', COMPLETE]);
    expect(run.stdout).toMatch(/the runner's health check fails: marking this instance unhealthy/);
  });

  it('GIVEN a crash-looping runner (3 restarts) THEN the instance is given back the same way', () => {
    const run = runDrainAgent({ 2: { 'meta-data/autoscaling/target-lifecycle-state': 'Terminated' } }, { health: 'starting 3' });
    expect(run.calls.slice(0, 2)).toEqual([ABANDON_LAUNCH, UNHEALTHY]);
    expect(run.stdout).toMatch(/the runner restarted 3 times/);
  });

  it('GIVEN a healthy runner with 2 restarts and no health check THEN nothing is reported', () => {
    const run = runDrainAgent({ 2: { 'meta-data/autoscaling/target-lifecycle-state': 'Terminated' } }, { health: 'none 2' });
    expect(run.calls).toEqual(['docker stop --time 110 cascade-runner', COMPLETE]);
  });
});

/** The whole boot script run with every outside command stubbed; \`failAt\` makes that command fail. */
function runBootScript(failAt: string | undefined) {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const stub = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  for (const name of ['curl', 'docker', 'aws', 'systemctl', 'mkfs.xfs', 'mount', 'mountpoint', 'dnf', 'shutdown', 'tee']) {
    const answer = name === 'curl' ? 'echo i-0abc123' : name === 'aws' && failAt !== 'aws' ? '[ "$2" = cp ] && echo v2; exit 0' : name === 'tee' ? 'cat' : 'exit 0';
    const fails = failAt === name ? `[ "$1" = "${name === 'docker' ? 'pull' : '$1'}" ] && exit 7` : '';
    stub(name, `echo "${name} $*" >> "${dir}/calls"\n${fails}\n${answer}`);
  }
  const script = renderUserData(params)
    .replaceAll('/etc/cascade', join(dir, 'etc'))
    .replaceAll('/etc/systemd/system', join(dir, 'etc'))
    .replaceAll('/usr/local/bin', join(dir, 'etc'))
    .replaceAll('/opt/cascade', join(dir, 'opt'))
    .replaceAll('/var/log', dir)
    .replaceAll('/var/lib/docker', join(dir, 'docker'))
    .replace('$(cut -d\' \' -f1 /proc/uptime | tr -d .)0', '1000');
  writeFileSync(join(dir, 'boot.sh'), script);
  const result = spawnSync('bash', [join(dir, 'boot.sh')], { encoding: 'utf8', timeout: 20_000, env: { PATH: `${bin}:${process.env.PATH}`, HOME: dir } });
  const calls = existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n') : [];
  return { status: result.status, stdout: result.stdout, calls };
}

describe('boot script', () => {
  it('GIVEN every step succeeds THEN it pulls while it syncs the pointed version, starts the runner with it and abandons nothing', () => {
    const run = runBootScript(undefined);
    expect(run.status).toBe(0);
    expect(run.calls.some((call) => call.includes('complete-lifecycle-action'))).toBe(false);
    const pull = run.calls.findIndex((call) => call.startsWith('docker pull'));
    const sync = run.calls.findIndex((call) => call.startsWith('aws s3 sync'));
    const start = run.calls.findIndex((call) => call.startsWith('docker run'));
    expect(pull).toBeGreaterThan(-1);
    expect(sync).toBeGreaterThan(-1);
    expect(start).toBeGreaterThan(Math.max(pull, sync));
    expect(run.calls[sync]).toContain('models/stable-cascade/v2/');
    expect(run.calls[start]).toContain('MODEL_DIR=/models/stable-cascade/v2');
    expect(run.calls[start]).toMatch(/BOOT_PHASES=os_boot=\d+,script_start=\d+,disk_ready=\d+,model_synced=\d+,image_pulled=\d+/);
    // The CRT transfer client, from a config file of its own (no HOME needed).
    expect(readFileSync(join(dir, 'etc/aws-cli.config'), 'utf8')).toBe('[default]\ns3 =\n  preferred_transfer_client = crt\n');
  });

  it('GIVEN the image pull fails THEN the error trap abandons the launch (the group replaces the instance) and the runner never starts', () => {
    const run = runBootScript('docker');
    expect(run.status).toBe(7);
    expect(run.calls).toContain(
      "aws autoscaling complete-lifecycle-action --region eu-west-1 --auto-scaling-group-name cascade-bot-prod-gpu-fleet --lifecycle-hook-name runner-ready --instance-id i-0abc123 --lifecycle-action-result ABANDON",
    );
    expect(run.calls.some((call) => call.startsWith('docker run'))).toBe(false);
    expect(run.stdout).toMatch(/cascade-boot: failed at line \d+ \(exit 7\); giving this instance back/);
  });

  it('GIVEN the AWS CLI itself fails THEN abandoning and marking unhealthy both fail, so the instance powers off', () => {
    const run = runBootScript('aws');
    expect(run.status).not.toBe(0);
    expect(run.calls.at(-1)).toBe('shutdown -h now');
  });
});
