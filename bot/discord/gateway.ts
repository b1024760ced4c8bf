/**
 * Self-hosted mode: a discord.js gateway client (no public URL needed). It listens to the raw
 * INTERACTION_CREATE dispatch — the same JSON the HTTP endpoint receives — and hands it to the
 * shared router; the ack goes to Discord's callback endpoint, the slow part runs after it.
 * An application uses either the gateway or an Interactions Endpoint URL, never both.
 */
import { Client, GatewayDispatchEvents, GatewayIntentBits } from 'discord.js';
import type { Logger } from '../../core/log.ts';
import { acknowledgeThenRun, type InteractionRouterDeps } from './acks.ts';
import { routeInteraction } from './interactions.ts';

export interface GatewayOptions {
  token: string;
  /** REST base URL (tests point it at a recording server on 127.0.0.1). */
  api?: string;
  router: InteractionRouterDeps;
  log?: Logger;
}

export interface DiscordGateway {
  client: Client;
  /** Waits for interactions in flight (their enqueue and follow-ups), then disconnects. */
  stop(): Promise<void>;
}

/** Handles one raw gateway interaction; resolves when its ack and follow-up work are done. */
export async function handleGatewayInteraction(payload: unknown, router: InteractionRouterDeps, log?: Logger): Promise<void> {
  const route = routeInteraction(payload, router);
  if (!route.ok) {
    log?.info('discord_interaction_ignored', { reason: route.error });
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
  const client = new Client({ intents: [GatewayIntentBits.Guilds], ...(options.api ? { rest: { api: options.api } } : {}) });
  const inFlight = new Set<Promise<void>>();
  client.ws.on(GatewayDispatchEvents.InteractionCreate, (data: unknown) => {
    const work = handleGatewayInteraction(data, options.router, options.log).catch((error: unknown) => {
      options.log?.error('discord_interaction_failed', { error: error instanceof Error ? error.name : String(error) });
    });
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  });
  client.on('error', (error) => options.log?.warn('discord_gateway_error', { error: error.name }));
  try {
    await client.login(options.token);
  } catch (error) {
    await client.destroy();
    // discord.js says "An invalid token was provided" or names the network error; neither holds the token.
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(`Discord refused to connect with DISCORD_TOKEN (${why}). Check the token under Bot in the developer portal.`, { cause: error });
  }
  options.log?.info('discord_gateway_ready', { user: client.user?.tag ?? 'unknown' });
  return {
    client,
    async stop() {
      await Promise.all(inFlight);
      await client.destroy();
    },
  };
}

