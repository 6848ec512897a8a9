/**
 * The `ip-restriction` plugin (Kong 3.9, priority 990, `kong/plugins/ip-restriction`): lets in or
 * keeps out clients by IP address or CIDR range (IPv4 and IPv6). `deny` is checked first, then
 * `allow`. The address is the real client IP (`trusted_ips` + `real_ip_header`), as nginx's
 * `$remote_addr` after the realip module.
 *
 * Refusals: `status` (403) with `message` (default `IP address not allowed: <ip>`), as a Kong
 * error body.
 *
 * @module
 */
import { BlockList, isIP } from 'node:net'
import { typedefs as t } from '../../schema/index.js'
import type { Field, InferFields } from '../../schema/index.js'
import type { Pdk } from '../../pdk/types.js'
import { KONG_COMPAT_VERSION } from '../../version.js'
import { routeLabel } from '../shared/consumer.js'
import type { Plugin, PluginSchema } from '../types.js'

export const ipRestrictionConfigFields = {
  allow: {
    type: 'array',
    elements: t.ip_or_cidr,
    description: 'List of IPs or CIDR ranges to allow. One of `config.allow` or `config.deny` must be specified.',
  },
  deny: {
    type: 'array',
    elements: t.ip_or_cidr,
    description: 'List of IPs or CIDR ranges to deny. One of `config.allow` or `config.deny` must be specified.',
  },
  status: { type: 'number', required: false, description: 'The HTTP status of the requests that will be rejected by the plugin.' },
  message: { type: 'string', required: false, description: 'The message to send as a response body to rejected requests.' },
} as const satisfies Record<string, Field>

export const ipRestrictionSchema: PluginSchema = {
  config: ipRestrictionConfigFields,
  config_checks: [{ at_least_one_of: ['allow', 'deny'] }],
  // Kong: `typedefs.protocols { default = { "http", "https", "tcp", "tls", "grpc", "grpcs" } }`.
  protocols: ['http', 'https', 'tcp', 'tls', 'grpc', 'grpcs'],
}

/** The validated `config`, inferred from its schema. */
export type IpRestrictionConfig = InferFields<typeof ipRestrictionConfigFields>

/** A compiled list of addresses and ranges. */
export class IpMatcher {
  readonly #list = new BlockList()
  readonly #entries: readonly string[]

  constructor(entries: readonly string[]) {
    this.#entries = entries
    for (const e of entries) {
      const slash = e.indexOf('/')
      const ip = slash === -1 ? e : e.slice(0, slash)
      const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4'
      if (slash === -1) this.#list.addAddress(ip, family)
      else this.#list.addSubnet(ip, Number(e.slice(slash + 1)), family)
    }
  }

  get size(): number {
    return this.#entries.length
  }

  /** Whether `address` is one of the addresses or in one of the ranges (IPv4-mapped IPv6 counts as IPv4). */
  matches(address: string): boolean {
    const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
    const plain = v4mapped?.[1] ?? address
    const family = isIP(plain)
    if (family === 0) return false
    return this.#list.check(plain, family === 6 ? 'ipv6' : 'ipv4')
  }
}

export interface IpRestrictionPrepared extends IpRestrictionConfig {
  readonly allowList: IpMatcher | null
  readonly denyList: IpMatcher | null
}

export function prepareIpRestriction(conf: IpRestrictionConfig): IpRestrictionPrepared {
  const list = (l: readonly string[] | null | undefined): IpMatcher | null => (l == null || l.length === 0 ? null : new IpMatcher(l))
  return { ...conf, allowList: list(conf.allow), denyList: list(conf.deny) }
}

/** Kong's verdict: the refusal reason, or null when the address may pass. */
export function ipVerdict(conf: IpRestrictionPrepared, ip: string): string | null {
  if (conf.denyList !== null && conf.denyList.matches(ip)) return `${ip} is in the deny list`
  if (conf.allowList !== null && !conf.allowList.matches(ip)) return `${ip} is not in the allow list (${conf.allowList.size} entries)`
  return null
}

export function ipRestrictionAccess(kong: Pdk, conf: IpRestrictionPrepared): void {
  const ip = kong.client.getIp()
  const why = ipVerdict(conf, ip)
  if (why === null) return
  const status = conf.status ?? 403
  const message = conf.message ?? `IP address not allowed: ${ip}`
  const peer = kong.client.getPeerIp()
  kong.log.notice(
    `${status} "${message}" on ${routeLabel(kong)}: client ${why}${peer !== ip ? ` (real IP taken from a trusted proxy ${peer})` : ''}`,
  )
  kong.response.error(status, message)
}

export const ipRestriction: Plugin<IpRestrictionConfig, IpRestrictionPrepared> = {
  name: 'ip-restriction',
  version: KONG_COMPAT_VERSION,
  priority: 990,
  schema: ipRestrictionSchema,
  prepare: prepareIpRestriction,
  access: ipRestrictionAccess,
}

export default ipRestriction
