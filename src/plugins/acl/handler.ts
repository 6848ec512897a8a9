/**
 * acl's access handler, as Kong 3.9's `kong/plugins/acl/handler.lua`: the groups of the
 * authenticated consumer (its `acls` rows, from the in-memory index) — or the *authenticated
 * groups* an auth plugin put in `kong.ctx.shared.authenticated_groups` when there is no consumer,
 * the consumer is anonymous, or `always_use_authenticated_groups` is set — are checked against
 * `allow` or `deny`:
 *
 * - blocked → 403 `You cannot consume this service`;
 * - nobody authenticated → 401 `Unauthorized` (403 if a credential without consumer is known);
 * - allowed → `X-Consumer-Groups: a, b` upstream (`X-Authenticated-Groups` for authenticated
 *   groups) unless `hide_groups_header`.
 *
 * Each refusal is logged at `notice` with the route, the consumer, its groups and the rule.
 *
 * @module
 */
import type { Pdk } from '../../pdk/types.js'
import { consumerLabel, HEADERS, routeLabel } from '../shared/consumer.js'
import type { AclConfig } from './schema.js'

export const ERR_FORBIDDEN = 'You cannot consume this service'

export interface AclPrepared extends AclConfig {
  readonly type: 'allow' | 'deny'
  readonly groups: ReadonlySet<string>
  /** The list as configured, for log lines. */
  readonly list: readonly string[]
}

export function prepareAcl(conf: AclConfig): AclPrepared {
  const deny = conf.deny !== null && conf.deny.length > 0
  const list = (deny ? conf.deny : conf.allow) ?? []
  return { ...conf, type: deny ? 'deny' : 'allow', groups: new Set(list), list }
}

/** Kong's `get_to_be_blocked`: true when blocked, else the header value (groups joined by ", "). */
export function decide(conf: Pick<AclPrepared, 'type' | 'groups'>, groups: readonly string[]): true | string {
  const inGroup = groups.some((g) => conf.groups.has(g))
  const blocked = conf.type === 'deny' ? inGroup : !inGroup
  return blocked ? true : groups.join(', ')
}

function authenticatedGroups(kong: Pdk): string[] | null {
  const g = kong.ctx.shared['authenticated_groups']
  if (typeof g === 'string') return [g]
  if (Array.isArray(g)) {
    const list = g.filter((x): x is string => typeof x === 'string')
    return list.length > 0 ? list : null
  }
  return null
}

function quoteList(list: readonly string[]): string {
  return list.length === 0 ? 'none' : list.map((g) => `"${g}"`).join(', ')
}

export function aclAccess(kong: Pdk, conf: AclPrepared): void {
  const consumer = kong.client.getConsumer()
  const credential = kong.client.getCredential()
  const consumerId = consumer?.id ?? credential?.consumer?.id ?? null
  const rule = `${conf.type} = [${quoteList(conf.list)}]`

  let groups: string[]
  let fromAuthenticated = false
  if (consumerId === null) {
    const auth = authenticatedGroups(kong)
    if (auth === null) {
      if (credential !== null) {
        kong.log.notice(
          `403 "${ERR_FORBIDDEN}" on ${routeLabel(kong)}: a credential was presented but no consumer or authenticated groups are known`,
        )
        return kong.response.error(403, ERR_FORBIDDEN)
      }
      kong.log.notice(
        `401 "Unauthorized" on ${routeLabel(kong)}: no consumer is authenticated; acl needs an authentication plugin (key-auth, basic-auth, jwt…) on this route, service or globally, which runs before it (higher priority)`,
      )
      return kong.response.error(401)
    }
    groups = auth
    fromAuthenticated = true
  } else {
    const auth = credential === null || conf.always_use_authenticated_groups ? authenticatedGroups(kong) : null
    if (auth !== null) {
      groups = auth
      fromAuthenticated = true
    } else {
      groups = kong.entities
        .listByForeign('acls', 'consumer', consumerId)
        .map((r) => r['group'])
        .filter((g): g is string => typeof g === 'string')
    }
  }

  const verdict = decide(conf, groups)
  if (verdict === true) {
    const who = fromAuthenticated
      ? 'the authenticated groups'
      : `${consumerLabel(consumer)}${credential === null ? ' (anonymous)' : ''} has groups`
    kong.log.notice(
      `403 "${ERR_FORBIDDEN}" on ${routeLabel(kong)}: ${who} [${quoteList(groups)}]; ${conf.type === 'allow' ? 'none of them is allowed' : 'one of them is denied'} (${rule})`,
    )
    return kong.response.error(403, ERR_FORBIDDEN)
  }
  if (!conf.hide_groups_header && verdict !== '') {
    kong.service.request.setHeader(fromAuthenticated ? HEADERS.AUTHENTICATED_GROUPS : HEADERS.CONSUMER_GROUPS, verdict)
  }
}
