/**
 * The boot script of a GPU instance (EC2 user data) and the host drain agent it installs, rendered
 * from plain values so both can be tested without AWS.
 *
 * Boot: an ERR trap first (any failing step abandons the launch hook, so Auto Scaling terminates and
 * replaces the instance instead of billing a broken one forever) → stop the AMI's unused ECS agent →
 * write the runner's environment file → put the model cache
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
 *
 * The agent also watches the runner container's health check and restart count: an unhealthy or
 * crash-looping runner gets its instance marked Unhealthy (and a pending launch abandoned), so the
 * group replaces it. The instance is InService only after the runner completed the launch hook, i.e.
 * loaded the model and created its sessions (gpu-runner/worker-launch.ts).
 */

export interface UserDataParams {
  region: string;
  bucket: string;
  modelName: string;
  /** Full image reference, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/cascade-runner:latest */
  imageUri: string;
  fleetGroupName: string;
  /** The termination hook the drain agent completes. */
  lifecycleHookName: string;
  /** The launch hook: the runner completes it (CONTINUE) once ready; the error trap abandons it. */
  launchHookName: string;
  logGroupName: string;
  /** Environment of the runner container (names as core/config.ts reads them). */
  runnerEnv: Record<string, string>;
  /** Seconds `docker stop` waits after SIGTERM before SIGKILL; the runner drains within 90 s. */
  drainStopSeconds: number;
}

import { MODEL_VERSION_PATTERN, modelPointerKey } from './model-upload.ts';

/** The same rule as MODEL_VERSION_PATTERN, for bash's [[ =~ ]] (ERE, unquoted). */
const MODEL_VERSION_SHELL_PATTERN = MODEL_VERSION_PATTERN.source;

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
: "\${STOP_SECONDS:?}" "\${ASG_NAME:?}" "\${HOOK_NAME:?}" "\${REGION:?}" "\${LAUNCH_HOOK_NAME:?}"
: "\${MAX_RESTARTS:=3}"

log() { echo "cascade-drain: $*"; }
imds() {
  local token
  token=$(curl -sf -X PUT "$IMDS_URL/latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 300') || return 1
  curl -sf -H "X-aws-ec2-metadata-token: $token" "$IMDS_URL/latest/$1"
}

until instance_id=$(imds meta-data/instance-id); do sleep "$POLL_SECONDS"; done
stopped=0
reported=0
# An unhealthy or crash-looping runner: give the instance back (a pending launch is abandoned, a running
# one is marked Unhealthy); Auto Scaling then terminates it through the termination hook handled below.
report_unhealthy() {
  [ "$reported" = 1 ] && return 0
  log "$1: marking this instance unhealthy"
  aws autoscaling complete-lifecycle-action --region "$REGION" --auto-scaling-group-name "$ASG_NAME" \
    --lifecycle-hook-name "$LAUNCH_HOOK_NAME" --instance-id "$instance_id" --lifecycle-action-result ABANDON >/dev/null 2>&1 || true
  aws autoscaling set-instance-health --region "$REGION" --instance-id "$instance_id" --health-status Unhealthy \
    --no-should-respect-grace-period && reported=1
}
stop_runner() {
  if [ "$stopped" = 0 ]; then
    log "$1: stopping $CONTAINER (SIGTERM, up to $STOP_SECONDS s to drain)"
    docker stop --time "$STOP_SECONDS" "$CONTAINER" || log "docker stop failed; continuing"
    stopped=1
  fi
}

while true; do
  if [ "$stopped" = 0 ] && state=$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.RestartCount}}' "$CONTAINER" 2>/dev/null); then
    if [ "\${state% *}" = unhealthy ]; then report_unhealthy "the runner's health check fails";
    elif [ "\${state#* }" -ge "$MAX_RESTARTS" ]; then report_unhealthy "the runner restarted \${state#* } times"; fi
  fi
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
  const modelRoot = `${HOST_CACHE_DIR}/models/${p.modelName}`;
  // MODEL_DIR is added at boot (docker run -e): it names the version the pointer holds then.
  const runnerEnv = renderEnvFile({ ...p.runnerEnv, LAUNCH_HOOK_NAME: p.launchHookName });
  const drainEnv = renderEnvFile({
    REGION: p.region,
    ASG_NAME: p.fleetGroupName,
    HOOK_NAME: p.lifecycleHookName,
    LAUNCH_HOOK_NAME: p.launchHookName,
    STOP_SECONDS: String(p.drainStopSeconds),
  });
  const q = shellQuote;
  return `#!/bin/bash
# cascade-bot GPU instance boot (rendered by infra/user-data.ts). Log: /var/log/cascade-boot.log
set -euo pipefail
exec > >(tee -a /var/log/cascade-boot.log) 2>&1
# Cold-start phases (ms since the epoch), handed to the runner, which publishes them (gpu-runner/boot-phases.ts).
phase_start=$(date +%s%3N)
phase_os=$(( phase_start - $(cut -d' ' -f1 /proc/uptime | tr -d .)0 ))

imds_token() { curl -sf -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300'; }
instance_id=$(curl -sf --retry 10 --retry-connrefused -H "X-aws-ec2-metadata-token: $(imds_token)" http://169.254.169.254/latest/meta-data/instance-id)

# Any failing step below: abandon the launch (Auto Scaling terminates and replaces the instance); if even
# that call fails, mark it unhealthy; if the AWS CLI cannot run at all, power off (the group replaces a stopped instance).
on_boot_error() {
  local status=$? line=$1
  trap - ERR
  echo "cascade-boot: failed at line $line (exit $status); giving this instance back"
  aws autoscaling complete-lifecycle-action --region ${q(p.region)} --auto-scaling-group-name ${q(p.fleetGroupName)} \
    --lifecycle-hook-name ${q(p.launchHookName)} --instance-id "$instance_id" --lifecycle-action-result ABANDON \
  || aws autoscaling set-instance-health --region ${q(p.region)} --instance-id "$instance_id" --health-status Unhealthy --no-should-respect-grace-period \
  || shutdown -h now
  exit "$status"
}
trap 'on_boot_error $LINENO' ERR

# The ECS GPU AMI is used for its NVIDIA driver and container runtime; its ECS agent is not needed.
systemctl disable --now --no-block ecs.service 2>/dev/null || true

mkdir -p /etc/cascade
${heredoc('/etc/cascade/runner.env', runnerEnv, 'CASCADE_RUNNER_ENV')}${heredoc('/etc/cascade/drain.env', drainEnv, 'CASCADE_DRAIN_ENV')}${heredoc('/usr/local/bin/cascade-drain-agent', renderDrainAgent(), 'CASCADE_DRAIN_AGENT')}chmod 755 /usr/local/bin/cascade-drain-agent
${heredoc('/etc/systemd/system/cascade-drain.service', DRAIN_UNIT, 'CASCADE_DRAIN_UNIT')}
command -v aws >/dev/null 2>&1 || dnf install -y -q awscli-2
# The CRT transfer client splits each object into parallel ranged GETs sized to the instance's bandwidth
# (AWS CLI ≥ 2.22; older versions ignore the key). A file of its own: user data may run without a HOME.
export AWS_CONFIG_FILE=/etc/cascade/aws-cli.config
${heredoc('$AWS_CONFIG_FILE', '[default]\ns3 =\n  preferred_transfer_client = crt\n', 'CASCADE_AWS_CONFIG')}
# Fast local disk: the NVMe instance store when this type has one (free, wiped on stop), else root EBS.
# It holds both the model cache and Docker's data root, so the image layers also land on NVMe.
mkdir -p ${HOST_CACHE_DIR}
store=$(ls /dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_* 2>/dev/null | head -n 1 || true)
if [ -n "$store" ] && ! mountpoint -q ${HOST_CACHE_DIR}; then
  mkfs.xfs -f "$store"
  mount -o noatime "$store" ${HOST_CACHE_DIR}
  systemctl stop docker.socket docker.service
  mkdir -p ${HOST_CACHE_DIR}/docker
  mount --bind ${HOST_CACHE_DIR}/docker /var/lib/docker
  systemctl start docker.service
fi
phase_disk=$(date +%s%3N)

# The model version the fleet runs: the pointer that "npm run model:rollout" writes after a complete upload.
version=$(aws s3 cp ${q(`s3://${p.bucket}/${modelPointerKey(p.modelName)}`)} - --region ${q(p.region)})
[[ "$version" =~ ${MODEL_VERSION_SHELL_PATTERN} ]] || { echo "cascade-boot: model pointer holds no valid version"; false; }
model_dir=${q(modelRoot)}/"$version"
mkdir -p "$model_dir"

# Image pull and model sync in parallel: they use different links (ECR vs S3) and disks are fast.
aws ecr get-login-password --region ${q(p.region)} | docker login --username AWS --password-stdin ${q(registryOf(p.imageUri))}
docker pull --quiet ${q(p.imageUri)} > /var/log/cascade-pull.log &
pull=$!
aws s3 sync ${q(`s3://${p.bucket}/models/${p.modelName}/`)}"$version/" "$model_dir" --only-show-errors --region ${q(p.region)}
phase_model=$(date +%s%3N)
wait "$pull"
phase_image=$(date +%s%3N)

docker rm -f ${RUNNER_CONTAINER} 2>/dev/null || true
docker run -d --name ${RUNNER_CONTAINER} --gpus all --restart unless-stopped \\
  --stop-timeout ${p.drainStopSeconds} \\
  --env-file /etc/cascade/runner.env -e RUNNER_ID="$instance_id" \\
  -e MODEL_DIR=${CONTAINER_MODELS_DIR}/${p.modelName}/"$version" \\
  -e BOOT_PHASES="os_boot=$phase_os,script_start=$phase_start,disk_ready=$phase_disk,model_synced=$phase_model,image_pulled=$phase_image" \\
  -v ${HOST_CACHE_DIR}/models:${CONTAINER_MODELS_DIR}:ro \\
  --log-driver awslogs --log-opt awslogs-region=${q(p.region)} --log-opt awslogs-group=${q(p.logGroupName)} \\
  --log-opt awslogs-stream="$instance_id" \\
  ${q(p.imageUri)}

systemctl daemon-reload
systemctl enable --now cascade-drain.service
`;
}
