/**
 * The outbound HTTP client a plugin holds until its `init` hands it the node's
 * (`PluginInitContext.http`): every request fails, saying why, so a plugin used without a worker
 * (embedded, or a test that did not call `init`) never reaches the network by a side door.
 *
 * @module
 */
import type { HttpRequester, OutboundResult } from '../../codec/outbound.js'

const NOT_INITIALISED: OutboundResult = {
  ok: false,
  failure: {
    kind: 'other',
    phase: 'request',
    code: undefined,
    message: 'no outbound HTTP client: the plugin was not initialised (PluginInitContext.http)',
  },
}

/** A requester that answers every request with a failure (the plugin's `init` has not run). */
export const uninitialisedHttp: HttpRequester = { request: () => Promise.resolve(NOT_INITIALISED) }
