/**
 * The `services` entity (Kong 3.9 `kong/db/schema/entities/services.lua`).
 *
 * @module
 */
import { typedefs as t } from '../schema/index.js'
import type { EntitySchema, InferRow } from '../schema/index.js'
import { expandServiceUrl } from './url-shorthand.js'

const timeout = { ...t.nonzero_timeout, default: 60000 } as const

export const services = {
  name: 'services',
  primary_key: ['id'],
  endpoint_key: 'name',
  workspaceable: true,
  fields: {
    id: t.uuid,
    created_at: t.auto_timestamp_s,
    updated_at: t.auto_timestamp_s,
    name: t.utf8_name,
    retries: { type: 'integer', default: 5, between: [0, 32767], description: 'The number of retries to execute upon failure to proxy.' },
    protocol: { ...t.protocol, required: true, default: 'http' },
    host: { ...t.host, required: true },
    port: { ...t.port, required: true, default: 80 },
    path: t.path,
    connect_timeout: timeout,
    write_timeout: timeout,
    read_timeout: timeout,
    tags: t.tags,
    client_certificate: {
      type: 'foreign',
      reference: 'certificates',
      description: 'Certificate to be used as client certificate while TLS handshaking to the upstream server.',
    },
    tls_verify: {
      type: 'boolean',
      description:
        'Whether to enable verification of upstream server TLS certificate. If not set, the global level config `proxy_ssl_verify` will be used.',
    },
    tls_verify_depth: {
      type: 'integer',
      default: null,
      between: [0, 64],
      description: "Maximum depth of chain while verifying Upstream server's TLS certificate.",
    },
    ca_certificates: {
      type: 'array',
      elements: { type: 'string', uuid: true },
      description:
        "Array of CA Certificate object UUIDs that are used to build the trust store while verifying upstream server's TLS certificate.",
    },
    enabled: { type: 'boolean', required: true, default: true, description: 'Whether the Service is active. ' },
  },
  entity_checks: [
    {
      conditional: {
        if_field: 'protocol',
        if_match: { one_of: ['tcp', 'tls', 'udp', 'grpc', 'grpcs'] },
        then_field: 'path',
        then_match: { eq: null },
      },
    },
    {
      conditional: {
        if_field: 'protocol',
        if_match: { not_one_of: ['https', 'tls'] },
        then_field: 'client_certificate',
        then_match: { eq: null },
      },
    },
    {
      conditional: { if_field: 'protocol', if_match: { not_one_of: ['https', 'tls'] }, then_field: 'tls_verify', then_match: { eq: null } },
    },
    {
      conditional: {
        if_field: 'protocol',
        if_match: { not_one_of: ['https', 'tls'] },
        then_field: 'tls_verify_depth',
        then_match: { eq: null },
      },
    },
    {
      conditional: {
        if_field: 'protocol',
        if_match: { not_one_of: ['https', 'tls'] },
        then_field: 'ca_certificates',
        then_match: { eq: null },
      },
    },
  ],
  // Kong accepts any UUID here and fails at proxy time; Turnpike refuses an id that names no CA.
  id_list_refs: { ca_certificates: 'ca_certificates' },
  shorthand_fields: {
    url: { type: 'string', expand: expandServiceUrl },
  },
} as const satisfies EntitySchema

/** A stored service row. */
export type Service = InferRow<typeof services>
