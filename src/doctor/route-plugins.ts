/**
 * The doctor's plugin checks: enabled plugins that refuse every request where they apply
 * (`plugin-refuses-all`), and routes with no service nothing answers (`route-no-service`).
 * Pure analysis of the configuration's rows.
 *
 * @module
 */
import type { PluginRow } from '../plugins/entity.js'
import type { ConfigPayload, StoredRow } from '../snapshot/snapshot.js'
import type { Finding, FindingSubject } from './types.js'

/** The credential entity each authentication plugin looks keys up in. */
const CREDENTIALS: Readonly<Record<string, { readonly entity: string; readonly what: string }>> = {
  'key-auth': { entity: 'keyauth_credentials', what: 'an API key' },
  'basic-auth': { entity: 'basicauth_credentials', what: 'a basic-auth username/password' },
  'hmac-auth': { entity: 'hmacauth_credentials', what: 'an hmac-auth username/secret' },
  jwt: { entity: 'jwt_secrets', what: 'a jwt secret' },
}

const MAX_NAMES_LISTED = 10

function text(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
}

function refId(v: unknown): string | null {
  if (v === null || typeof v !== 'object') return null
  return text((v as { id?: unknown }).id)
}

function pluginSubject(p: PluginRow): FindingSubject {
  return { kind: 'plugin', id: p.id, name: text(p.instance_name) ?? p.name }
}

/** Where a plugin applies, in words: `globally`, `on service "x"`, `on route "y"`. */
function scopeText(p: PluginRow, names: ReadonlyMap<string, string>): string {
  const route = refId(p.route)
  const service = refId(p.service)
  const parts: string[] = []
  if (route !== null) parts.push(`route ${JSON.stringify(names.get(route) ?? route)}`)
  if (service !== null) parts.push(`service ${JSON.stringify(names.get(service) ?? service)}`)
  return parts.length === 0 ? 'globally' : `on ${parts.join(' and ')}`
}

function anonymousExists(consumers: readonly StoredRow[], anonymous: string): boolean {
  return consumers.some((c) => c.id === anonymous || c['username'] === anonymous)
}

/** Why an enabled plugin refuses every request, or null. */
function refusal(
  p: PluginRow,
  entities: NonNullable<ConfigPayload['entities']>,
): { severity: 'warn' | 'error'; why: string; fix: string } | null {
  const conf = (p.config ?? {}) as Readonly<Record<string, unknown>>
  const consumers = entities['consumers'] ?? []
  const cred = CREDENTIALS[p.name]
  if (cred !== undefined) {
    const anonymous = text(conf['anonymous'])
    if (anonymous !== null) {
      if (anonymousExists(consumers, anonymous)) return null
      return {
        severity: 'error',
        why: `config.anonymous names consumer ${JSON.stringify(anonymous)}, which does not exist: every request without a valid credential gets 500`,
        fix: `create the consumer ${JSON.stringify(anonymous)}, or set config.anonymous to the id or username of an existing consumer`,
      }
    }
    if (p.name === 'key-auth' && conf['key_in_header'] === false && conf['key_in_query'] === false && conf['key_in_body'] !== true)
      return {
        severity: 'error',
        why: 'key_in_header, key_in_query and key_in_body are all false: no key is ever read, every request gets 401',
        fix: 'set config.key_in_header (or key_in_query / key_in_body) to true',
      }
    const rows = (entities[cred.entity] ?? []).filter((row) => {
      const consumer = refId(row['consumer'])
      return consumer !== null && consumers.some((c) => c.id === consumer)
    })
    if (rows.length === 0)
      return {
        severity: 'error',
        why: `no consumer has ${cred.what} (no ${cred.entity} rows): every request gets 401`,
        fix: `create a consumer and give it a credential (POST /consumers/{consumer}/${p.name === 'jwt' ? 'jwt' : p.name}), or set config.anonymous`,
      }
    return null
  }
  if (p.name === 'acl') {
    const groupsOf = new Map<string, Set<string>>()
    for (const row of entities['acls'] ?? []) {
      const consumer = refId(row['consumer'])
      const group = text(row['group'])
      if (consumer === null || group === null) continue
      let set = groupsOf.get(consumer)
      if (set === undefined) groupsOf.set(consumer, (set = new Set()))
      set.add(group)
    }
    const allow = Array.isArray(conf['allow']) ? strings(conf['allow']) : null
    if (allow !== null) {
      const allowed = new Set(allow)
      const anyone = consumers.some((c) => [...(groupsOf.get(c.id) ?? [])].some((g) => allowed.has(g)))
      if (anyone) return null
      return {
        severity: 'error',
        why:
          allow.length === 0
            ? 'config.allow is empty: no consumer can be allowed, every request gets 403 (or 401 without an authenticated consumer)'
            : `no consumer is in any allowed group (${allow
                .slice(0, MAX_NAMES_LISTED)
                .map((g) => JSON.stringify(g))
                .join(', ')}): every request gets 403`,
        fix: 'add consumers to an allowed group (POST /consumers/{consumer}/acls {"group": …}), or fix config.allow',
      }
    }
    const deny = new Set(strings(conf['deny']))
    if (consumers.length > 0 && consumers.every((c) => [...(groupsOf.get(c.id) ?? [])].some((g) => deny.has(g))))
      return {
        severity: 'error',
        why: `every consumer (${consumers.length}) is in a denied group: every authenticated request gets 403`,
        fix: 'remove the group from config.deny, or take consumers out of the denied groups',
      }
    return null
  }
  if (p.name === 'request-termination') {
    const status = typeof conf['status_code'] === 'number' ? conf['status_code'] : 503
    return {
      severity: 'warn',
      why: `answers every request itself with ${status}${conf['echo'] === true ? ' (echo)' : ''}; nothing reaches the upstream`,
      fix: 'intended during maintenance; disable or delete the plugin to let requests through again',
    }
  }
  if (p.name === 'ip-restriction') {
    const deny = strings(conf['deny'])
    const all4 = deny.includes('0.0.0.0/0')
    const all6 = deny.includes('::/0')
    if (all4 && all6)
      return {
        severity: 'error',
        why: 'config.deny contains 0.0.0.0/0 and ::/0: every client address is denied (deny is checked before allow)',
        fix: 'remove the catch-all ranges from config.deny and list the addresses to keep out, or use config.allow',
      }
    const allow = conf['allow']
    if (Array.isArray(allow) && allow.length === 0 && conf['deny'] == null)
      return {
        severity: 'error',
        why: 'config.allow is empty and no deny list is set: no client address is allowed',
        fix: 'list the addresses or ranges to let in config.allow',
      }
  }
  return null
}

/** The plugins a set of routes runs (global, on their service, on themselves), consumer-scoped ones left out. */
function pluginApplies(p: PluginRow, routeIds: ReadonlySet<string>, serviceIds: ReadonlySet<string>, everything: boolean): boolean {
  if (!p.enabled || refId(p.consumer) !== null) return false
  const route = refId(p.route)
  const service = refId(p.service)
  if (route === null && service === null) return true
  if (everything) return true
  return (route === null || routeIds.has(route)) && (service === null || serviceIds.has(service))
}

/**
 * `plugin-refuses-all` findings for the enabled plugins that apply to the routes in `routeIds`
 * (or every plugin when `everything`).
 */
export function checkPlugins(
  payload: ConfigPayload,
  routeIds: ReadonlySet<string>,
  serviceIds: ReadonlySet<string>,
  everything: boolean,
): Finding[] {
  const entities = payload.entities ?? {}
  const names = new Map<string, string>()
  for (const r of payload.routes) names.set(r.id, r.name ?? r.id)
  for (const s of payload.services) names.set(s.id, s.name ?? s.id)
  const findings: Finding[] = []
  for (const p of payload.plugins ?? []) {
    if (!pluginApplies(p, routeIds, serviceIds, everything)) continue
    const r = refusal(p, entities)
    if (r === null) continue
    findings.push({
      check: 'plugin-refuses-all',
      severity: r.severity,
      subject: pluginSubject(p),
      summary: `${p.name} ${scopeText(p, names)}: ${r.why}`,
      fix: r.fix,
      details: { plugin: p.name, route: refId(p.route), service: refId(p.service) },
    })
  }
  return findings
}

/** Whether a request-termination plugin answers requests on this route (no service needed). */
export function terminatedRoute(payload: ConfigPayload, routeId: string): boolean {
  return (payload.plugins ?? []).some((p) => {
    if (p.name !== 'request-termination' || !p.enabled || refId(p.consumer) !== null) return false
    const route = refId(p.route)
    return refId(p.service) === null && (route === null || route === routeId)
  })
}
