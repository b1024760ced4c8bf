/**
 * `npm run bench -- <name> [args…]` runs bench/<name>.ts; with no name it lists the benchmarks.
 * Benchmarks print figures and ratios and never assert; see each file's header for what it measures.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const helpers = new Set(['index', 'percentiles']);
const benches = readdirSync(here)
  .filter((file) => file.endsWith('.ts') && !helpers.has(file.slice(0, -3)))
  .map((file) => file.slice(0, -3))
  .sort();

const [name, ...args] = process.argv.slice(2);
if (!name) {
  console.log('usage: npm run bench -- <name> [args…]\n');
  for (const bench of benches) console.log(`  ${bench.padEnd(20)} ${firstDocLine(join(here, `${bench}.ts`))}`);
  process.exit(0);
}
if (!benches.includes(name)) {
  console.error(`unknown benchmark "${name}"; one of: ${benches.join(', ')}`);
  process.exit(2);
}
const run = spawnSync(process.execPath, [join(here, `${name}.ts`), ...args], { stdio: 'inherit' });
process.exit(run.status ?? 1);

function firstDocLine(path: string): string {
  const match = /\/\*\*\s*\n?\s*\*?\s*(.+)/.exec(readFileSync(path, 'utf8'));
  return match?.[1]?.trim() ?? '';
}
