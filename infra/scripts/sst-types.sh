#!/usr/bin/env bash
# Writes .sst/platform (SST's component sources and the @pulumi/aws types) so that sst.config.ts and
# infra/ can be typechecked without AWS credentials and without the Pulumi engine, which the SST CLI
# would otherwise download from GitHub (infra-notes.md §1.1). Needs only the npm registry.
# For typechecking only: deploys need the real CLI with internet and AWS credentials.
set -euo pipefail
cd "$(dirname "$0")/../.."

wanted=$(node -p "require('./node_modules/sst/package.json').version")
if [ -f .sst/platform/config.d.ts ] && [ -d .sst/platform/node_modules/@pulumi/aws ] && [ "$(cat .sst/platform/.cascade-sst-version 2>/dev/null)" = "$wanted" ]; then
  exit 0
fi

fake_home=$(mktemp -d)
trap 'rm -rf "$fake_home"' EXIT
mkdir -p "$fake_home/.config/sst/bin"
# SST checks the Pulumi version it finds before installing; `sst install` never runs Pulumi itself.
printf '#!/bin/sh\necho v3.215.0\n' >"$fake_home/.config/sst/bin/pulumi"
chmod +x "$fake_home/.config/sst/bin/pulumi"

npm_config_cache="${npm_config_cache:-$HOME/.npm}" HOME="$fake_home" \
  SST_NO_BUN=1 SST_STAGE=typecheck SST_TELEMETRY_DISABLED=1 node_modules/.bin/sst install
echo "$wanted" >.sst/platform/.cascade-sst-version
