/**
 * `npm start`: the whole system on this machine (local/system.ts) with a web playground.
 * Settings come from the environment, then `.env`, then these flags (a flag wins). Ctrl-C or SIGTERM
 * stops every part in order; a second Ctrl-C leaves at once.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseDotenv } from 'dotenv';
import { loadConfig, redactSecrets } from '../core/config.ts';

const HELP = `npm start [-- options]

Starts, on 127.0.0.1: the SQS/S3 emulator (objects kept in DATA_DIR), the image runner on the CPU with the
bundled model, the events dispatcher, the web playground, and the Discord / Slack bots whose tokens are set.

Options (each also an environment variable, or a line in .env):
  --port <n>            WEB_PORT              playground port (0 = any free port)          default 3000
  --emulator-port <n>   LOCAL_EMULATOR_PORT   SQS/S3 emulator port (0 = any free port)     default 4566
  --data-dir <path>     DATA_DIR              where past jobs and images are kept          default .data
  --model <path>        MODEL_DIR             model bundle folder                          default models/demo, else the tiny test bundle
  -h, --help            this text

Other variables (see README.md, "Configuration"):
  DISCORD_TOKEN                         connect the Discord bot through the gateway
  SLACK_BOT_TOKEN + SLACK_APP_TOKEN     connect the Slack app in Socket Mode
  ORT_PROVIDER=cpu|cuda|webgpu          onnxruntime execution provider               default cpu
  ORT_CPU_THREADS                       CPU provider: threads per model session      default 0 (one per core)
  MAX_PENDING_PER_USER                  jobs one user may have waiting at once       default 3
  MODERATION_BLOCKLIST, MODERATION_RESTRICTED, ALLOWED_CHANNELS, ALLOWED_WORKSPACES   comma-separated lists
  LOG_LEVEL=debug|info|warn|error       default warn (npm start prints its own summary);  LOG_JSON=1 for JSON lines
`;

const FLAG_TO_ENV = { port: 'WEB_PORT', 'emulator-port': 'LOCAL_EMULATOR_PORT', 'data-dir': 'DATA_DIR', model: 'MODEL_DIR' } as const;

function readDotenv(): Record<string, string> {
  try {
    return parseDotenv(readFileSync('.env'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: 'string' }, 'emulator-port': { type: 'string' }, 'data-dir': { type: 'string' }, model: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const flags = Object.fromEntries(Object.entries(FLAG_TO_ENV).flatMap(([flag, name]) => (values[flag as keyof typeof FLAG_TO_ENV] === undefined ? [] : [[name, values[flag as keyof typeof FLAG_TO_ENV]]])));
  // The real environment beats .env (as with every dotenv user); flags beat both.
  // npm start prints one line per part itself; the parts' own info lines would repeat them (LOG_LEVEL=info shows them).
  const env = { LOG_LEVEL: 'warn', ...readDotenv(), ...process.env, ...flags };
  // The SDK warns that its releases after January 2027 need Node 22; package-lock pins one that runs on 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // Settings are checked before the system's modules load (a second or so): --help, an unknown flag or a bad
  // setting answers at once.
  loadConfig(env);
  const { startSystem } = await import('../local/system.ts');
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say('cascade-bot: starting…');
  const starting = startSystem({ env, say });

  // Listening before anything is up: Ctrl-C during start-up stops whatever has started, too.
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      say('stopping at once');
      process.exit(130);
    }
    stopping = true;
    say(`${signal}: stopping (the job in progress finishes or goes back to the queue)…`);
    starting.then((system) => system.stop(), () => undefined).then(
      () => {
        say('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`${redactSecrets(String(error))}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const system = await starting;
  if (!stopping) say(`ready — open ${system.webUrl} (Ctrl-C to stop)`);
}

main().catch((error: unknown) => {
  const text = error instanceof Error ? error.message : String(error);
  process.stderr.write(`cascade-bot: cannot start: ${redactSecrets(text)}\n`);
  if ((error as { code?: string }).code === 'port_in_use') process.stderr.write('  choose other ports with --port / --emulator-port (or WEB_PORT / LOCAL_EMULATOR_PORT); 0 picks a free one\n');
  process.exit(1);
});
