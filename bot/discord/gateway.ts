/**
 * Self-hosted mode: a discord.js gateway client (no public URL needed). It listens to the raw
 * INTERACTION_CREATE dispatch — the same JSON the HTTP endpoint receives — and hands it to the
 * shared router; the ack goes to Discord's callback endpoint, the slow part runs after it.
 * An application uses either the gateway or an Interactions Endpoint URL, never both.
 */
import { Client, GatewayDispatchEvents, GatewayIntentBits } from 'discord.js';
import type { Config } from '../../core/config.js';
import type { BotDeps } from '../commands/context.js';
import { routeInteraction, acknowledgeThenRun, type InteractionLog, type InteractionRouterDeps } from './interactions.js';
import { wireDiscord, type DiscordWiring } from './wiring.js';

export interface GatewayOptions {
  token: string;
  router: InteractionRouterDeps;
  log?: InteractionLog;
}

export interface DiscordGateway {
  client: Client;
  /** Waits for interactions in flight (their enqueue and follow-ups), then disconnects. */
  stop(): Promise<void>;
}

/** Handles one raw gateway interaction; resolves when its ack and follow-up work are done. */
export async function handleGatewayInteraction(payload: unknown, router: InteractionRouterDeps, log?: InteractionLog): Promise<void> {
  const route = routeInteraction(payload, router);
  if (!route.ok) {
    log?.('discord_interaction_ignored', { reason: route.error });
    return;
  }
  if (route.afterAck) {
    await acknowledgeThenRun(router.rest, route, log);
    return;
  }
  // Answers without slow work (autocomplete, ephemeral refusals) still go through the callback endpoint.
  const id = (payload as { id?: unknown }).id;
  const token = (payload as { token?: unknown }).token;
  if (typeof id === 'string' && typeof token === 'string') {
    await acknowledgeThenRun(router.rest, { ...route, interaction: { id, token } }, log);
  }
}

export async function startDiscordGateway(options: GatewayOptions): Promise<DiscordGateway> {
  // Interactions need no privileged intents; Guilds keeps channel data (nsfw flags) in the payloads.
  const client = new Client({ intents: [GatewayIntentBits.Guilds] });
  const inFlight = new Set<Promise<void>>();
  client.ws.on(GatewayDispatchEvents.InteractionCreate, (data: unknown) => {
    const work = handleGatewayInteraction(data, options.router, options.log).catch((error: unknown) => {
      options.log?.('discord_interaction_failed', { error: error instanceof Error ? error.name : String(error) });
    });
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  });
  client.on('error', (error) => options.log?.('discord_gateway_error', { error: error.name }));
  await client.login(options.token);
  options.log?.('discord_gateway_ready', { user: client.user?.tag ?? 'unknown' });
  return {
    client,
    async stop() {
      await Promise.all(inFlight);
      await client.destroy();
    },
  };
}

/**
 * What `npm start` calls when DISCORD_TOKEN is set: the gateway client plus the poster the
 * dispatcher needs (`posters: { discord: started.poster }`). Undefined without a token.
 */
export async function startDiscordFromConfig(config: Config, bot: BotDeps, log?: InteractionLog): Promise<(DiscordWiring & { gateway: DiscordGateway }) | undefined> {
  const token = config.discord.token;
  if (!token) return undefined;
  const wiring = wireDiscord(config, bot, log ? { log } : {});
  const gateway = await startDiscordGateway({ token, router: wiring.router, ...(log ? { log } : {}) });
  return { ...wiring, gateway };
}
