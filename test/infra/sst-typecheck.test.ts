/**
 * Typechecks sst.config.ts and infra/ against SST 4's platform types and @pulumi/aws, offline.
 * The types come from `infra/scripts/sst-types.sh` (npm registry only; .ci/run runs it before the tests).
 * One tsc run also compiles a negative control with known mistakes, proving the check sees real types
 * (a missing or `any`-typed platform would let the mistakes through).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const platformTypes = join(root, '.sst/platform/config.d.ts');
const hasPlatform = existsSync(platformTypes) && existsSync(join(root, '.sst/platform/node_modules/@pulumi/aws'));

const NEGATIVE_CONTROL = `// Deliberate mistakes: each line must be reported by tsc.
export function negativeControl() {
  new sst.aws.Queue('Control', { fifo: 'yes' });
  new aws.autoscaling.Group('Control', { minSize: 0, maxSize: 1, capacityRebalancing: true });
}
`;

describe('infra typecheck (SST platform types)', () => {
  it.skipIf(!hasPlatform)(
    'GIVEN .sst/platform (from infra/scripts/sst-types.sh) THEN sst.config.ts and infra/ typecheck, and planted mistakes are caught',
    () => {
      const dir = join(root, '.sst/typecheck');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'negative-control.ts'), NEGATIVE_CONTROL);
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({ extends: '../../infra/tsconfig.json', include: ['../../sst.config.ts', '../../infra/**/*.ts', '../platform/config.d.ts', './negative-control.ts'] }),
      );
      const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], {
        cwd: root,
        encoding: 'utf8',
      });
      const errors = tsc.stdout.split('\n').filter((line) => /error TS\d+/.test(line));
      const outsideControl = errors.filter((line) => !line.startsWith('.sst/typecheck/negative-control.ts'));
      expect(outsideControl).toEqual([]);
      expect(errors.map((line) => /negative-control\.ts\((\d+),/.exec(line)?.[1])).toEqual(['3', '4']);
    },
    240_000,
  );

  it('GIVEN the infra tsconfig THEN it covers sst.config.ts, every infra module and the platform types', () => {
    const config = JSON.parse(readFileSync(join(root, 'infra/tsconfig.json'), 'utf8')) as { include: string[] };
    expect(config.include).toEqual(['../sst.config.ts', './**/*.ts', '../.sst/platform/config.d.ts']);
    if (!hasPlatform) console.warn('infra typecheck skipped: run infra/scripts/sst-types.sh first (.ci/run does)');
  });
});
