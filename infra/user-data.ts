/**
 * The boot script of a GPU instance (EC2 user data) and the host drain agent it installs, rendered
 * from plain values so both can be tested without AWS.
 *
 * Boot: stop the AMI's unused ECS agent → write the runner's environment file → put the model cache
 * on the NVMe instance store when the type has one (else the root EBS volume) → `aws s3 sync` the
 * bundle from `s3://<bucket>/models/<name>/` → log in to ECR, pull and start the runner container with
 * the GPU → start the drain agent.
 *
 * Drain agent: polls instance metadata every few seconds. On a spot interruption notice it stops the
 * runner container (SIGTERM: the runner stops taking jobs and finishes or releases the one in flight).
 * When Auto Scaling moves the instance to Terminating:Wait (scale-in or Capacity Rebalancing, through
 * the fleet's termination lifecycle hook) it does the same and then completes the lifecycle action
 * with CONTINUE, so the instance is terminated only after the runner has drained. If the agent dies,
 * the hook's heartbeat timeout completes it with the default result (CONTINUE) instead.
 */

export interface UserDataParams {
  region: string;
  bucket: string;
  modelName: string;
  /** Full image reference, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/cascade-runner:latest */
  imageUri: string;
  fleetGroupName: string;
  lifecycleHookName: string;
  logGroupName: string;
  /** Environment of the runner container (names as core/config.ts reads them). */
  runnerEnv: Record<string, string>;
  /** Seconds `docker stop` waits after SIGTERM before SIGKILL; the runner drains within 90 s. */
  drainStopSeconds: number;
}

export const RUNNER_CONTAINER = 'cascade-runner';
/** Where the model cache is mounted on the host; the container sees it read-only at /models. */
export const HOST_CACHE_DIR = '/opt/cascade';
export const CONTAINER_MODELS_DIR = '/models';

/** Single-quotes a value for bash: nothing inside is expanded. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** docker --env-file lines: taken literally up to the newline, so names are checked and newlines refused. */
export function renderEnvFile(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([name, value]) => {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) throw new Error(`runner environment: "${name}" is not a valid variable name (A-Z, 0-9, _)`);
      if (/[\r\n\0]/.test(value)) throw new Error(`runner environment: the value of ${name} contains a line break or NUL, which an env file cannot hold`);
      return `${name}=${value}\n`;
    })
    .join('');
}

function registryOf(imageUri: string): string {
  const slash = imageUri.indexOf('/');
  if (slash <= 0) throw new Error(`runner image "${imageUri}" has no registry host (expected <registry>/<repository>:<tag>)`);
  return imageUri.slice(0, slash);
}

/** Shell that writes `body` to `path` through a quoted heredoc: byte for byte, with no expansion. */
export function heredoc(path: string, body: string, marker: string): string {
  if (body.split('\n').includes(marker)) throw new Error(`heredoc body for ${path} contains its end marker ${marker}`);
  return `cat > ${path} <<'${marker}'\n${body}${body.endsWith('\n') ? '' : '\n'}${marker}\n`;
}

export function renderDrainAgent(): string {
  return `#!/bin/bash
# cascade-bot drain agent: lets the runner finish before the instance goes away (see infra/user-data.ts).
set -uo pipefail
: "\${IMDS_URL:=http://169.254.169.254}" "\${POLL_SECONDS:=5}" "\${CONTAINER:=${RUNNER_CONTAINER}}"
: "\${STOP_SECONDS:?}" "\${ASG_NAME:?}" "\${HOOK_NAME:?}" "\${REGION:?}"

log() { echo "cascade-drain: $*"; }
imds() {
  local token
  token=$(curl -sf -X PUT "$IMDS_URL/latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 300') || return 1
  curl -sf -H "X-aws-ec2-metadata-token: $token" "$IMDS_URL/latest/$1"
}

until instance_id=$(imds meta-data/instance-id); do sleep "$POLL_SECONDS"; done
stopped=0
stop_runner() {
  if [ "$stopped" = 0 ]; then
    log "$1: stopping $CONTAINER (SIGTERM, up to $STOP_SECONDS s to drain)"
    docker stop --time "$STOP_SECONDS" "$CONTAINER" || log "docker stop failed; continuing"
    stopped=1
  fi
}

while true; do
  if imds meta-data/spot/instance-action >/dev/null 2>&1; then stop_runner "spot interruption notice"; fi
  if [ "$(imds meta-data/autoscaling/target-lifecycle-state 2>/dev/null)" = "Terminated" ]; then
    stop_runner "auto scaling is terminating this instance"
    until aws autoscaling complete-lifecycle-action --region "$REGION" --auto-scaling-group-name "$ASG_NAME" \\
      --lifecycle-hook-name "$HOOK_NAME" --instance-id "$instance_id" --lifecycle-action-result CONTINUE; do
      log "complete-lifecycle-action failed; retrying"
      sleep "$POLL_SECONDS"
    done
    log "lifecycle action completed"
    exit 0
  fi
  sleep "$POLL_SECONDS"
done
`;
}

const DRAIN_UNIT = `[Unit]
Description=cascade-bot drain agent
After=docker.service
Requires=docker.service

[Service]
EnvironmentFile=/etc/cascade/drain.env
ExecStart=/usr/local/bin/cascade-drain-agent
Restart=on-failure

[Install]
WantedBy=multi-user.target
`;

export function renderUserData(p: UserDataParams): string {
  const modelDir = `${HOST_CACHE_DIR}/models/${p.modelName}`;
  const runnerEnv = renderEnvFile({ ...p.runnerEnv, MODEL_DIR: `${CONTAINER_MODELS_DIR}/${p.modelName}` });
  const drainEnv = renderEnvFile({
    REGION: p.region,
    ASG_NAME: p.fleetGroupName,
    HOOK_NAME: p.lifecycleHookName,
    STOP_SECONDS: String(p.drainStopSeconds),
  });
  const q = shellQuote;
  return `#!/bin/bash
# cascade-bot GPU instance boot (rendered by infra/user-data.ts). Log: /var/log/cascade-boot.log
set -euo pipefail
exec > >(tee -a /var/log/cascade-boot.log) 2>&1

# The ECS GPU AMI is used for its NVIDIA driver and container runtime; its ECS agent is not needed.
systemctl disable --now --no-block ecs.service 2>/dev/null || true

mkdir -p /etc/cascade
${heredoc('/etc/cascade/runner.env', runnerEnv, 'CASCADE_RUNNER_ENV')}${heredoc('/etc/cascade/drain.env', drainEnv, 'CASCADE_DRAIN_ENV')}${heredoc('/usr/local/bin/cascade-drain-agent', renderDrainAgent(), 'CASCADE_DRAIN_AGENT')}chmod 755 /usr/local/bin/cascade-drain-agent
${heredoc('/etc/systemd/system/cascade-drain.service', DRAIN_UNIT, 'CASCADE_DRAIN_UNIT')}
command -v aws >/dev/null 2>&1 || dnf install -y -q awscli-2

# Model cache: the NVMe instance store when this type has one (fast, free, wiped on stop), else root EBS.
mkdir -p ${HOST_CACHE_DIR}
store=$(ls /dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_* 2>/dev/null | head -n 1 || true)
if [ -n "$store" ] && ! mountpoint -q ${HOST_CACHE_DIR}; then
  mkfs.xfs -f "$store" && mount -o noatime "$store" ${HOST_CACHE_DIR}
fi
mkdir -p ${q(modelDir)}
aws s3 sync ${q(`s3://${p.bucket}/models/${p.modelName}/`)} ${q(modelDir)} --only-show-errors --region ${q(p.region)}

token=$(curl -sf -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
instance_id=$(curl -sf -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/instance-id)

aws ecr get-login-password --region ${q(p.region)} | docker login --username AWS --password-stdin ${q(registryOf(p.imageUri))}
docker pull ${q(p.imageUri)}
docker rm -f ${RUNNER_CONTAINER} 2>/dev/null || true
docker run -d --name ${RUNNER_CONTAINER} --gpus all --restart unless-stopped \\
  --stop-timeout ${p.drainStopSeconds} \\
  --env-file /etc/cascade/runner.env -e RUNNER_ID="$instance_id" \\
  -v ${HOST_CACHE_DIR}/models:${CONTAINER_MODELS_DIR}:ro \\
  --log-driver awslogs --log-opt awslogs-region=${q(p.region)} --log-opt awslogs-group=${q(p.logGroupName)} \\
  --log-opt awslogs-stream="$instance_id" \\
  ${q(p.imageUri)}

systemctl daemon-reload
systemctl enable --now cascade-drain.service
`;
}
