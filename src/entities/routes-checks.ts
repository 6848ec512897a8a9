/**
 * Routes' cross-field rules (Kong 3.9 `routes.lua` and `routes_subschemas.lua`), written as
 * custom entity checks with Kong's messages.
 *
 * Kong's `conditional_at_least_one_of` only fires when `protocols` itself is valid, so each
 * rule first re-validates `protocols` with the field definition.
 *
 * @module
 */
import type { CheckErrors, Field, StringField } from '../schema/index.js'
import { type FieldSpec, isNonEmpty } from '../schema/index.js'
import { validateField } from '../schema/index.js'
import { quotedList } from '../schema/index.js'

/** Protocol groups that cannot be mixed in one route. */
export const PROTOCOL_SUBSETS: readonly (readonly string[])[] = [
  ['http', 'https'],
  ['tcp', 'tls', 'udp'],
  ['tls_passthrough'],
  ['grpc', 'grpcs'],
]

/** Kong's `mutually_exclusive_subsets` on `protocols`. */
export function checkProtocolSubsets(value: unknown): string | undefined {
  if (!Array.isArray(value)) return undefined
  const memberOf: (readonly string[])[] = []
  for (const v of value) {
    const subset = PROTOCOL_SUBSETS.find((s) => s.includes(v as string))
    if (subset && !memberOf.includes(subset)) memberOf.push(subset)
  }
  return memberOf.length <= 1 ? undefined : `these sets are mutually exclusive: ${quotedList(memberOf)}`
}

const protocolsOf = (row: Readonly<Record<string, unknown>>, protocolsField: Field): string[] | undefined => {
  const value = row['protocols']
  if (!Array.isArray(value)) return undefined
  return validateField(protocolsField, value, { updating: false }) === undefined ? (value as string[]) : undefined
}

const firstMissing = (row: Readonly<Record<string, unknown>>, names: readonly string[]): boolean => !names.some((n) => isNonEmpty(row[n]))

/**
 * `snis` only with grpcs/https/tls/tls_passthrough: Kong reports the snis value error (element
 * errors, else `length must be 0`) and an entity message.
 */
export function snisCheck(snisField: Field) {
  return (row: Readonly<Record<string, unknown>>): CheckErrors | undefined => {
    const protocols = row['protocols'] as string[]
    if (protocols.some((p) => ['grpcs', 'https', 'tls', 'tls_passthrough'].includes(p))) return undefined
    const err = validateField({ ...snisField, len_eq: 0 } as FieldSpec, row['snis'] ?? null, { updating: false })
    if (err === undefined) return undefined
    return {
      snis: err as string | string[],
      '@entity': ["'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'tls_passthrough'"],
    }
  }
}

/** http/https routes need something to match on. */
export function httpMatchCheck(protocolsField: Field) {
  return (row: Readonly<Record<string, unknown>>): CheckErrors | undefined => {
    const protocols = protocolsOf(row, protocolsField)
    if (!protocols) return undefined
    if (protocols.includes('https')) {
      const names = ['methods', 'hosts', 'headers', 'paths', 'snis']
      return firstMissing(row, names) ? { '@entity': [`must set one of ${quotedList(names)} when 'protocols' is 'https'`] } : undefined
    }
    if (protocols.includes('http')) {
      const names = ['methods', 'hosts', 'headers', 'paths']
      return firstMissing(row, names) ? { '@entity': [`must set one of ${quotedList(names)} when 'protocols' is 'http'`] } : undefined
    }
    return undefined
  }
}

/** Stream routes match on sources/destinations/snis; tls_passthrough only on snis. */
export function streamMatchCheck(protocolsField: Field) {
  return (row: Readonly<Record<string, unknown>>): CheckErrors | undefined => {
    const protocols = protocolsOf(row, protocolsField)
    if (!protocols) return undefined
    const entity: string[] = []
    if (protocols.every((p) => ['tcp', 'tls', 'udp'].includes(p))) {
      const names = ['sources', 'destinations', 'snis']
      if (firstMissing(row, names)) entity.push(`must set one of ${quotedList(names)} when 'protocols' is 'tcp', 'tls' or 'udp'`)
    }
    if (protocols.every((p) => p === 'tls_passthrough') && firstMissing(row, ['snis'])) {
      entity.push("must set snis when 'protocols' is 'tls_passthrough'")
    }
    return entity.length > 0 ? { '@entity': entity } : undefined
  }
}

/** gRPC routes match on hosts/headers/paths (+ snis for grpcs). */
export function grpcMatchCheck(protocolsField: Field) {
  return (row: Readonly<Record<string, unknown>>): CheckErrors | undefined => {
    const protocols = protocolsOf(row, protocolsField)
    if (!protocols) return undefined
    if (protocols.includes('grpcs')) {
      const names = ['hosts', 'headers', 'paths', 'snis']
      return firstMissing(row, names) ? { '@entity': [`must set one of ${quotedList(names)} when 'protocols' is 'grpcs'`] } : undefined
    }
    if (protocols.includes('grpc')) {
      const names = ['hosts', 'headers', 'paths']
      return firstMissing(row, names) ? { '@entity': [`must set one of ${quotedList(names)} when 'protocols' is 'grpc'`] } : undefined
    }
    return undefined
  }
}

/**
 * A subschema field that must stay null (Kong's `eq = null` with a custom `err`): any non-null
 * value, whatever its type, is refused with `message`.
 */
export function forbidden(message: string) {
  return { type: 'json', custom_validator: () => message } as const
}

/** Kong's header-name rule for routes: the `host` header belongs in `hosts`. */
export function routeHeaderName(base: StringField): StringField {
  return {
    ...base,
    custom_validator: (v) => {
      if (typeof v === 'string' && /^host$/i.test(v))
        return "cannot contain 'host' header, which must be specified in the 'hosts' attribute"
      return base.custom_validator?.(v)
    },
  }
}
