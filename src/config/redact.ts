/**
 * The configuration as shown by the Admin API's `GET /` (`configuration` field).
 *
 * @module
 */

import type { GatewayConfig, ListenAddress } from './types.js'

/** What Kong prints instead of a sensitive value (`CONF_SENSITIVE_PLACEHOLDER`). */
export const REDACTED = '******'

/** Settings Kong marks sensitive beyond the name patterns below (`CONF_SENSITIVE`). */
const SENSITIVE_NAMES: ReadonlySet<string> = new Set(['proxy_server', 'declarative_config_string'])

/** True for settings whose values must never be shown: passwords, secrets, keys, tokens. */
export function isSensitiveSetting(name: string): boolean {
  return (
    SENSITIVE_NAMES.has(name) || name.includes('password') || name.includes('secret') || name.endsWith('_key') || name.endsWith('_token')
  )
}

function listenerString(l: ListenAddress): string {
  const host = l.host.includes(':') ? `[${l.host}]` : l.host
  const flags = [
    l.ssl ? 'ssl' : '',
    l.http2 ? 'http2' : '',
    l.reuseport ? 'reuseport' : '',
    l.backlog !== undefined ? `backlog=${l.backlog}` : '',
  ].filter((f) => f !== '')
  return [`${host}:${l.port}`, ...flags].join(' ')
}

function listeners(list: readonly ListenAddress[]): object[] {
  return list.map((l) => ({
    ip: l.host,
    port: l.port,
    ssl: l.ssl,
    http2: l.http2,
    // Kong's listener records carry every flag; these three are not acted on (see configuration.md)
    proxy_protocol: false,
    deferred: false,
    bind: false,
    reuseport: l.reuseport,
    ...(l.backlog !== undefined ? { backlog: l.backlog } : {}),
    listener: listenerString(l),
  }))
}

/**
 * A JSON-ready copy of the configuration for `GET /`: every setting (typed where Turnpike
 * implements it, the given string otherwise), Kong's `*_listeners` detail, and sensitive
 * values replaced by `******` as Kong does.
 */
export function publicConfiguration(config: GatewayConfig): Record<string, unknown> {
  const { raw, ...typed } = config
  const out: Record<string, unknown> = { ...raw }
  for (const [name, value] of Object.entries(typed)) out[name] = value
  // Kong shows the listen settings as arrays of strings plus parsed `*_listeners`.
  for (const name of ['proxy', 'admin', 'status'] as const) {
    const list = config[`${name}_listen`]
    out[`${name}_listen`] = list.length === 0 ? ['off'] : list.map(listenerString)
    out[`${name}_listeners`] = listeners(list)
  }
  // Listeners Kong derives for servers Turnpike does not run (Kong Manager, stream, hybrid mode):
  // present, as clients read them, and empty, as nothing listens there.
  for (const name of ['admin_gui_listeners', 'stream_listeners', 'cluster_listeners']) out[name] = []
  for (const name of Object.keys(out)) {
    if (isSensitiveSetting(name) && out[name] !== '' && out[name] !== undefined && out[name] !== null) out[name] = REDACTED
  }
  return out
}
