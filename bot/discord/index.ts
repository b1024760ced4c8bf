/** Discord front end: what main, the Lambdas and the dispatcher wiring import. */
export { startDiscordGateway, handleGatewayInteraction, type DiscordGateway } from './gateway.js';
export { wireDiscord, type DiscordWiring } from './wiring.js';
export { DiscordRestPoster, createDiscordRest, blobMessageIds, INTERACTION_TOKEN_USABLE_MS } from './rest-poster.js';
export { createCommandHandlers } from './command-handlers.js';
export { routeInteraction } from './interactions.js';
export { acknowledgeThenRun } from './acks.js';
export { COMMAND_DEFINITIONS } from './commands.js';
export { startInteractionsServer, type InteractionsServer } from './http-server.js';
