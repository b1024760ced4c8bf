/**
 * Registers the slash commands, run by the operator (never at bot start-up: Discord rate-limits
 * command registration, and a bulk PUT replaces the whole set).
 *
 *   DISCORD_TOKEN=… DISCORD_APPLICATION_ID=… node bot/discord/register-commands.ts --guild 123…   # one server, instant
 *   DISCORD_TOKEN=… DISCORD_APPLICATION_ID=… node bot/discord/register-commands.ts --global       # every server
 *
 * `DISCORD_API_URL` points the client elsewhere (tests use a recording server on 127.0.0.1).
 */
import { pathToFileURL } from 'node:url';
import { REST } from '@discordjs/rest';
import { Routes, type RESTPutAPIApplicationCommandsResult } from 'discord-api-types/v10';
import { COMMAND_DEFINITIONS } from './commands.ts';

export type RegistrationScope = { kind: 'guild'; guildId: string } | { kind: 'global' };

/** Replaces the application's commands in one scope with ours; returns the names Discord stored. */
export async function registerCommands(rest: REST, applicationId: string, scope: RegistrationScope): Promise<string[]> {
  const route = scope.kind === 'guild' ? Routes.applicationGuildCommands(applicationId, scope.guildId) : Routes.applicationCommands(applicationId);
  const stored = (await rest.put(route, { body: COMMAND_DEFINITIONS })) as RESTPutAPIApplicationCommandsResult;
  return stored.map((command) => command.name);
}

export function parseScope(args: readonly string[]): RegistrationScope {
  const guildAt = args.indexOf('--guild');
  if (guildAt >= 0) {
    const guildId = args[guildAt + 1];
    if (!guildId || !/^\d{15,25}$/.test(guildId)) throw new Error('--guild needs the server id (a number; Developer Mode → right-click the server → Copy Server ID)');
    return { kind: 'guild', guildId };
  }
  if (args.includes('--global')) return { kind: 'global' };
  throw new Error('say where to register: --guild <server id> (instant, for testing) or --global (all servers)');
}

async function main(): Promise<void> {
  const token = process.env.DISCORD_TOKEN;
  const applicationId = process.env.DISCORD_APPLICATION_ID;
  const missing = [!token && 'DISCORD_TOKEN', !applicationId && 'DISCORD_APPLICATION_ID'].filter(Boolean);
  if (missing.length > 0) throw new Error(`set ${missing.join(' and ')} (see bot/discord/README.md)`);
  const scope = parseScope(process.argv.slice(2));
  const rest = new REST({ ...(process.env.DISCORD_API_URL ? { api: process.env.DISCORD_API_URL } : {}) }).setToken(token!);
  const names = await registerCommands(rest, applicationId!, scope);
  console.log(`registered ${names.map((n) => `/${n}`).join(', ')} ${scope.kind === 'guild' ? `in server ${scope.guildId}` : 'globally (may take up to an hour to appear)'}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
