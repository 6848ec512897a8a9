/**
 * Reusable field definitions mirroring Kong's `typedefs` (3.9), with Kong's validation and
 * messages. Spread them and add attributes: `{ ...typedefs.host, required: true }`.
 *
 * @module
 */
import type { ArrayField, BooleanField, MapField, NumberField, RecordField, StringField } from './types.js'
import {
  validateHeaderName,
  validateHost,
  validateHostWithOptionalPort,
  validateIp,
  validateIpOrCidr,
  validateName,
  validatePath,
  validateRouteHost,
  validateRouterPath,
  validateSni,
  validateTag,
  validateUtf8Name,
  validateWildcardHost,
} from './validators.js'
import { validateCertificate, validateKey, validatePemKeys } from './pem.js'

/** Kong's `constants.PROTOCOLS` (OSS 3.9), sorted. */
export const PROTOCOLS = ['grpc', 'grpcs', 'http', 'https', 'tcp', 'tls', 'tls_passthrough', 'udp'] as const
/** The protocols of the http subsystem, sorted (plugins' default `protocols`). */
export const HTTP_PROTOCOLS = ['grpc', 'grpcs', 'http', 'https'] as const

const str = (v: unknown, fn: (s: string) => string | undefined): string | undefined => (typeof v === 'string' ? fn(v) : undefined)

export const uuid = { type: 'string', uuid: true, auto: true } as const satisfies StringField
export const auto_timestamp_s = { type: 'integer', timestamp: true, auto: true } as const satisfies NumberField
export const auto_timestamp_ms = { type: 'number', timestamp: true, auto: true } as const satisfies NumberField

export const http_method = { type: 'string', match: /^[A-Z]+$/ } as const satisfies StringField
export const protocol = { type: 'string', one_of: PROTOCOLS } as const satisfies StringField
export const host = { type: 'string', custom_validator: (v) => str(v, validateHost) } as const satisfies StringField
export const host_with_optional_port = {
  type: 'string',
  custom_validator: (v) => str(v, validateHostWithOptionalPort),
} as const satisfies StringField
export const wildcard_host = { type: 'string', custom_validator: (v) => str(v, validateWildcardHost) } as const satisfies StringField
export const sni = { type: 'string', custom_validator: (v) => str(v, validateSni) } as const satisfies StringField
export const ip = { type: 'string', custom_validator: (v) => str(v, validateIp) } as const satisfies StringField
export const ip_or_cidr = { type: 'string', custom_validator: (v) => str(v, validateIpOrCidr) } as const satisfies StringField
export const port = { type: 'integer', between: [0, 65535] } as const satisfies NumberField
export const timeout = { type: 'integer', between: [0, 2 ** 31 - 2] } as const satisfies NumberField
/** Services' connect/read/write timeouts: at least 1 ms. */
export const nonzero_timeout = { type: 'integer', between: [1, 2 ** 31 - 2] } as const satisfies NumberField
export const header_name = { type: 'string', custom_validator: (v) => str(v, validateHeaderName) } as const satisfies StringField

/** `starts_with: /`, no `//`, RFC 3986 characters, valid percent-encoding. */
export const path = {
  type: 'string',
  starts_with: '/',
  custom_validator: (v) => {
    if (typeof v !== 'string') return undefined
    return v.includes('//') ? 'must not have empty segments' : validatePath(v)
  },
} as const satisfies StringField

export const name = { type: 'string', unique: true, custom_validator: (v) => str(v, validateName) } as const satisfies StringField
export const utf8_name = { type: 'string', unique: true, custom_validator: (v) => str(v, validateUtf8Name) } as const satisfies StringField

export const tag = { type: 'string', required: true, custom_validator: (v) => str(v, validateTag) } as const satisfies StringField
export const tags = { type: 'set', elements: tag } as const satisfies ArrayField

export const protocols = { type: 'set', required: true, default: HTTP_PROTOCOLS, elements: protocol } as const satisfies ArrayField
export const protocols_http = {
  type: 'set',
  required: true,
  default: HTTP_PROTOCOLS,
  elements: { type: 'string', one_of: HTTP_PROTOCOLS },
} as const satisfies ArrayField

/** An `{ ip, port }` endpoint of a stream route, at least one of them set. */
const endpoint = {
  type: 'record',
  fields: { ip: ip_or_cidr, port },
  entity_checks: [{ at_least_one_of: ['ip', 'port'] }],
} as const satisfies RecordField

export const sources = { type: 'set', elements: endpoint } as const satisfies ArrayField
export const destinations = { type: 'set', elements: endpoint } as const satisfies ArrayField
export const methods = { type: 'set', elements: http_method } as const satisfies ArrayField
export const hosts = {
  type: 'array',
  elements: { type: 'string', custom_validator: (v) => str(v, validateRouteHost) },
} as const satisfies ArrayField
export const router_path = { type: 'string', custom_validator: (v) => str(v, validateRouterPath) } as const satisfies StringField
export const router_paths = { type: 'array', elements: router_path } as const satisfies ArrayField
export const headers = {
  type: 'map',
  keys: header_name,
  values: { type: 'array', elements: { type: 'string' } },
} as const satisfies MapField

/** A PEM certificate (`invalid certificate: …`). */
export const certificate = {
  type: 'string',
  custom_validator: (v) => str(v, validateCertificate),
  description: 'A string representing a certificate.',
} as const satisfies StringField
/** A PEM key (`invalid key: …`). */
export const key = {
  type: 'string',
  custom_validator: (v) => str(v, validateKey),
  description: 'A string representing a key.',
} as const satisfies StringField

/** A PEM key pair, either half optional (keys' `pem`). */
export const pem = {
  type: 'record',
  required: false,
  fields: {
    private_key: { type: 'string', required: false, referenceable: true, encrypted: true },
    public_key: { type: 'string', referenceable: true, required: false },
  },
  entity_checks: [{ at_least_one_of: ['private_key', 'public_key'] }],
  custom_validator: validatePemKeys,
  description:
    'A pair of PEM-encoded public and private keys, which can be either a string or a reference to a credential in Kong Vault. If provided as strings, they must be valid PEM-encoded keys.',
} as const satisfies RecordField

export const boolean_true = { type: 'boolean', required: true, default: true } as const satisfies BooleanField

/** A field's `dumped` for deprecated fields (http-log's `queue_size` …): written by `config dump` only when it holds a value. */
export const dumpedWhenSet = (value: unknown): boolean => value !== null && value !== undefined
