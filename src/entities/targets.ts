/**
 * The `targets` entity (Kong 3.9 `kong/db/schema/entities/targets.lua` and `kong/db/dao/targets.lua`):
 * one `host[:port]` (port 8000 when omitted) with a weight, under an upstream. Only reachable under
 * `/upstreams/{upstream}/targets`; timestamps are in milliseconds; `(upstream, target)` is unique.
 *
 * @module
 */
import { normalizeIp } from '../schema/index.js'
import { typedefs as t } from '../schema/index.js'
import type { EntitySchema, FieldErrors, InferRow } from '../schema/index.js'

/** Port a target gets when it names none (Kong's default). */
export const DEFAULT_TARGET_PORT = 8000

/** The schema's check (declarative files, `/schemas/targets/validate`): Kong names the value. */
function validateTarget(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined
  if (!('error' in normalizeIp(v))) return undefined
  // Kong quotes the target unless it is not valid UTF-8
  return Buffer.from(v, 'utf8').toString('utf8') === v
    ? `Invalid target ('${v}'); not a valid hostname or ip address`
    : 'Invalid target; not a valid hostname or ip address'
}

/**
 * Kong's targets DAO formats the target before anything else is validated on an Admin API write,
 * and refuses it alone, without naming it.
 */
function formatTargetFirst(_ctx: unknown, input: Readonly<Record<string, unknown>>): Promise<FieldErrors | undefined> {
  const v = input['target']
  const refused = typeof v === 'string' && 'error' in normalizeIp(v)
  return Promise.resolve(refused ? { target: 'Invalid target; not a valid hostname or ip address' } : undefined)
}

/** `host[:port]` in Kong's stored form: port filled in, IPv6 in brackets. */
export function normalizeTarget(value: string): string {
  const r = normalizeIp(value)
  if ('error' in r) return value
  const host = r.type === 'ipv6' ? `[${r.host.replace(/^\[|\]$/g, '')}]` : r.host
  return `${host}:${r.port ?? DEFAULT_TARGET_PORT}`
}

/** Splits a stored target into host (no brackets) and port. */
export function splitTarget(value: string): { host: string; port: number } {
  const m = /^\[(.+)\]:(\d+)$/.exec(value) ?? /^([^:]+):(\d+)$/.exec(value)
  if (m === null) return { host: value.replace(/^\[|\]$/g, ''), port: DEFAULT_TARGET_PORT }
  return { host: m[1] as string, port: Number(m[2]) }
}

export const targets = {
  name: 'targets',
  primary_key: ['id'],
  cache_key: ['upstream', 'target'],
  workspaceable: true,
  admin_nested_only: 'upstreams',
  fields: {
    id: t.uuid,
    created_at: t.auto_timestamp_ms,
    updated_at: t.auto_timestamp_ms,
    upstream: { type: 'foreign', reference: 'upstreams', required: true, on_delete: 'cascade' },
    target: {
      type: 'string',
      required: true,
      custom_validator: validateTarget,
      description: 'The target address (ip or hostname) and port.',
    },
    weight: {
      type: 'integer',
      default: 100,
      between: [0, 65535],
      description: 'The weight this target gets within the upstream loadbalancer (0-65535).',
    },
    tags: t.tags,
  },
  transform: (row) => (typeof row['target'] === 'string' ? { ...row, target: normalizeTarget(row['target']) } : row),
  dao_hooks: { beforeWrite: formatTargetFirst },
} as const satisfies EntitySchema

/** A stored target row. */
export type Target = InferRow<typeof targets>
