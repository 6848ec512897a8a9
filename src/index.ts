/**
 * Turnpike's public API: types for plugin authors, and the functions to embed the gateway.
 *
 * @example
 * ```ts
 * import { loadConfig, startGateway } from 'turnpike'
 * const gw = await startGateway(loadConfig({ overrides: { prefix: '/tmp/gw' } }))
 * await gw.stopped
 * ```
 * @module
 */
export type { Plugin, PluginSchema, PluginInitContext, Phase } from './plugins/types.js'
export type { HttpRequester, OutboundRequest, OutboundResult, OutboundFailure, OutboundFailureKind } from './codec/outbound.js'
export type { ApiCall, ApiRequest, ApiResponse, ApiRoute, NodeFacts, PluginApiContext, WorkerAnswers } from './plugins/endpoints.js'
export type {
  Pdk,
  PdkRequest,
  PdkResponse,
  PdkClient,
  PdkServiceRequest,
  PdkServiceResponse,
  PdkLog,
  PdkEntities,
  PdkRouter,
  Consumer,
  Credential,
  EntityRow,
  HeaderValue,
} from './pdk/types.js'
export type { Field, EntitySchema, InferFields } from './schema/index.js'
export type { GatewayConfig } from './config/index.js'
export { loadConfig, ConfigError } from './config/index.js'
export { startGateway, type RunningGateway } from './runtime/primary.js'
export { VERSION, KONG_COMPAT_VERSION } from './version.js'
