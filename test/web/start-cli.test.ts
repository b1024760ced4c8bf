/**
 * `npm start` as a user runs it (bin/start.ts in a child process): --help lists the options with
 * their defaults, a taken port (also when set in .env) is refused with a sentence naming it, an
 * unknown flag is named, and SIGTERM stops every part and exits 0.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURE_BUNDLE } from '../../local/system.ts';

const START = resolve('bin/start.ts');
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Run {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

function start(args: string[], env: Record<string, string>, options: { cwd?: string; onStdout?: (text: string, child: ReturnType<typeof spawn>) => void } = {}): Promise<Run> {
  const child = spawn(process.execPath, [START, ...args], { cwd: options.cwd ?? process.cwd(), env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'error', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    options.onStdout?.(stdout, child);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((done) => child.on('exit', (code, signal) => done({ stdout, stderr, code, signal })));
}

async function occupiedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  cleanups.push(() => new Promise((done) => server.close(done)));
  return (server.address() as { port: number }).port;
}

describe('GIVEN npm start', () => {
  it('WHEN run with --help THEN it lists every option with its variable and default, and starts nothing', async () => {
    const run = await start(['--help'], {});
    expect(run.code).toBe(0);
    for (const text of ['--port', 'WEB_PORT', 'default 3000', '--emulator-port', 'LOCAL_EMULATOR_PORT', 'default 4566', '--data-dir', 'DATA_DIR', 'default .data', '--model', 'MODEL_DIR', 'DISCORD_TOKEN', 'SLACK_APP_TOKEN']) {
      expect(run.stdout).toContain(text);
    }
    expect(run.stdout).not.toContain('playground http');
  });

  it('WHEN the playground port (set in .env) is taken THEN it refuses with a sentence naming the port and how to choose another', async () => {
    const port = await occupiedPort();
    const cwd = await mkdtemp(join(tmpdir(), 'cascade-cwd-'));
    cleanups.push(() => rm(cwd, { recursive: true, force: true }));
    await writeFile(join(cwd, '.env'), `WEB_PORT=${port}\nLOCAL_EMULATOR_PORT=0\n`);
    const run = await start([], { DATA_DIR: join(cwd, 'data'), MODEL_DIR: FIXTURE_BUNDLE }, { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot start: port ${port} on 127.0.0.1 is already in use`);
    expect(run.stderr).toContain('--port');
  });

  it('WHEN the emulator port is taken THEN it refuses the same way', async () => {
    const port = await occupiedPort();
    const cwd = await mkdtemp(join(tmpdir(), 'cascade-cwd-'));
    cleanups.push(() => rm(cwd, { recursive: true, force: true }));
    const run = await start(['--emulator-port', String(port), '--port', '0', '--data-dir', join(cwd, 'data'), '--model', FIXTURE_BUNDLE], {});
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
  });

  it('WHEN the model cannot be loaded THEN it refuses with the runner\'s reason and starts nothing after it', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'cascade-cwd-'));
    cleanups.push(() => rm(cwd, { recursive: true, force: true }));
    const model = join(cwd, 'broken-model');
    await mkdir(model);
    await writeFile(join(model, 'manifest.json'), '{"format":"cascade-bundle"}');
    const run = await start(['--port', '0', '--emulator-port', '0', '--data-dir', join(cwd, 'data'), '--model', model], {});
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain('runner ');
    expect(run.stdout).not.toContain('ready — open');
    expect(run.stderr).toContain(`cannot start: the runner could not start: the model in ${model} could not be loaded: model bundle ${model} is not usable`);
    expect(run.stderr).toContain('manifest.json version');
  });

  it('WHEN given an unknown flag THEN it names it', async () => {
    const run = await start(['--prot', '3001'], {});
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Unknown option '--prot'");
  });

  it('WHEN WEB_PORT is not a port THEN the error names the setting and the accepted range, not zod\'s wording', async () => {
    const run = await start([], { WEB_PORT: 'abc' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('WEB_PORT: must be a whole number from 0 to 65535 (0 = any free port)');
    expect(run.stderr).not.toContain('NaN');
    expect((await start(['--port', '99999'], {})).stderr).toContain('WEB_PORT: must be a whole number from 0 to 65535');
  });

  it('WHEN everything is up and SIGTERM arrives THEN it prints one line per part, stops them all and exits 0', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'cascade-cwd-'));
    cleanups.push(() => rm(cwd, { recursive: true, force: true }));
    let signalled = false;
    const run = await start(['--port', '0', '--emulator-port', '0', '--data-dir', join(cwd, 'data'), '--model', FIXTURE_BUNDLE], {}, {
      onStdout: (text, child) => {
        if (!signalled && text.includes('ready — open')) {
          signalled = true;
          child.kill('SIGTERM');
        }
      },
    });
    expect(run.stderr).toBe('');
    expect({ code: run.code, signal: run.signal }, run.stdout).toEqual({ code: 0, signal: null });
    for (const part of ['model ', 'queues+S3 ', 'runner ', 'discord    off', 'slack      off', 'dispatcher delivering to web', 'playground http://127.0.0.1:']) expect(run.stdout).toContain(part);
    expect(run.stdout).toMatch(/SIGTERM: stopping[\s\S]*\nstopped\n$/);
    // The runner runs in its own process; it has left too.
    const runnerPid = Number(/runner .* \(process (\d+)\)/.exec(run.stdout)?.[1]);
    expect(runnerPid).toBeGreaterThan(0);
    expect(() => process.kill(runnerPid, 0)).toThrow(/ESRCH/);
  });
});
