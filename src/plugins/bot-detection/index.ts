/**
 * The `bot-detection` plugin (Kong 3.9, priority 2500, `kong/plugins/bot-detection`): refuses
 * requests whose `User-Agent` is a known bot (the built-in list, see ./rules.ts) or matches a
 * `deny` regex, with 403 `{"message":"Forbidden"}`; an `allow` regex lets a User-Agent through
 * before anything else is checked. Requests without a User-Agent pass; several User-Agent
 * headers are refused with 400 `Only one User-Agent header allowed`.
 *
 * @module
 */
import { typedefs as t } from '../../schema/index.js'
import type { Field, InferFields } from '../../schema/index.js'
import type { Pdk } from '../../pdk/types.js'
import { KONG_COMPAT_VERSION } from '../../version.js'
import { routeLabel } from '../shared/consumer.js'
import type { Plugin, PluginSchema } from '../types.js'
import { boundedRegex, type BoundedRegex } from '../../regex/bounded-regex.js'
import { BOT_REGEXES } from './rules.js'

function isRegex(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined
  try {
    new RegExp(v)
    return undefined
  } catch {
    return 'not a valid regex: ' + v
  }
}

export const botDetectionConfigFields = {
  allow: {
    type: 'array',
    default: [],
    elements: { type: 'string', custom_validator: isRegex },
    description:
      'An array of regular expressions that should be allowed. The regular expressions will be checked against the `User-Agent` header.',
  },
  deny: {
    type: 'array',
    default: [],
    elements: { type: 'string', custom_validator: isRegex },
    description:
      'An array of regular expressions that should be denied. The regular expressions will be checked against the `User-Agent` header.',
  },
} as const satisfies Record<string, Field>

export const botDetectionSchema: PluginSchema = {
  config: botDetectionConfigFields,
  no_consumer: true,
  protocols: t.HTTP_PROTOCOLS,
}

/** The validated `config`, inferred from its schema. */
export type BotDetectionConfig = InferFields<typeof botDetectionConfigFields>

export type Verdict = 'none' | 'allow' | 'deny' | 'bot'

export interface BotDetectionPrepared extends BotDetectionConfig {
  readonly allowRe: readonly (readonly [BoundedRegex, string])[]
  readonly denyRe: readonly (readonly [BoundedRegex, string])[]
  /** Per-configuration cache of verdicts by User-Agent (bounded). */
  readonly cache: Map<string, { verdict: Verdict; rule: string | null }>
}

const CACHE_SIZE = 10_000

export function prepareBotDetection(conf: BotDetectionConfig): BotDetectionPrepared {
  return {
    ...conf,
    allowRe: (conf.allow ?? []).map((r) => [boundedRegex(r), r] as const),
    denyRe: (conf.deny ?? []).map((r) => [boundedRegex(r), r] as const),
    cache: new Map(),
  }
}

/** Kong's examine_agent: allow list first, then deny list, then the built-in bots. */
export function examineAgent(conf: BotDetectionPrepared, userAgent: string): { verdict: Verdict; rule: string | null } {
  const ua = userAgent.trim()
  for (const [re, rule] of conf.allowRe) if (re.test(ua)) return { verdict: 'allow', rule }
  for (const [re, rule] of conf.denyRe) if (re.test(ua)) return { verdict: 'deny', rule }
  for (const re of BOT_REGEXES) if (re.test(ua)) return { verdict: 'bot', rule: null }
  return { verdict: 'none', rule: null }
}

export function botDetectionAccess(kong: Pdk, conf: BotDetectionPrepared): void {
  // The header list as received: node keeps only the first of repeated User-Agent headers.
  const ua = kong.service.request.getHeaders()['user-agent']
  if (Array.isArray(ua)) {
    kong.log.info(`400 on ${routeLabel(kong)}: the request has ${ua.length} User-Agent headers; only one is allowed`)
    kong.response.exit(400, { message: 'Only one User-Agent header allowed' })
    return
  }
  if (ua === undefined) return
  let hit = conf.cache.get(ua)
  if (hit === undefined) {
    hit = examineAgent(conf, ua)
    if (conf.cache.size >= CACHE_SIZE) conf.cache.clear()
    conf.cache.set(ua, hit)
  }
  if (hit.verdict === 'deny' || hit.verdict === 'bot') {
    const why =
      hit.verdict === 'deny'
        ? `matches config.deny entry "${hit.rule}"`
        : 'is in the built-in list of bots (add a config.allow regex to let it in)'
    kong.log.info(`403 "Forbidden" on ${routeLabel(kong)}: User-Agent "${ua.length > 120 ? `${ua.slice(0, 120)}…` : ua}" ${why}`)
    kong.response.exit(403, { message: 'Forbidden' })
  }
}

export const botDetection: Plugin<BotDetectionConfig, BotDetectionPrepared> = {
  name: 'bot-detection',
  version: KONG_COMPAT_VERSION,
  priority: 2500,
  schema: botDetectionSchema,
  prepare: prepareBotDetection,
  access: botDetectionAccess,
}

export default botDetection
