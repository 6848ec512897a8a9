/**
 * The `routes` entity (Kong 3.9 `routes.lua` + `routes_subschemas.lua`, router flavor
 * `traditional_compatible`).
 *
 * Deviation: `regex_priority` and `path_handling` are `required` here (Kong: optional with a
 * default) so that stored rows never hold null there and `Route` fits the router's
 * `RouteInput`. Only an explicit `null` behaves differently (400 instead of storing null).
 *
 * @module
 */
import { typedefs as t } from '../schema/index.js'
import type { EntitySchema, InferRow } from '../schema/index.js'
import {
  checkProtocolSubsets,
  forbidden,
  grpcMatchCheck,
  httpMatchCheck,
  routeHeaderName,
  snisCheck,
  streamMatchCheck,
} from './routes-checks.js'

const protocols = {
  type: 'set',
  description: 'An array of the protocols this Route should allow.',
  len_min: 1,
  required: true,
  elements: t.protocol,
  default: ['http', 'https'],
  custom_validator: checkProtocolSubsets,
} as const

const snis = { type: 'set', description: 'A list of SNIs that match this Route.', elements: t.wildcard_host } as const

const STREAM = "when 'protocols' is 'tcp', 'tls', 'tls_passthrough' or 'udp'"
const GRPC = "when 'protocols' is 'grpc' or 'grpcs'"
const HTTP = "when 'protocols' is 'http' or 'https'"

const httpSubschema = {
  fields: {
    sources: forbidden(`cannot set 'sources' ${HTTP}`),
    destinations: forbidden(`cannot set 'destinations' ${HTTP}`),
  },
  entity_checks: [
    { custom_entity_check: { field_sources: ['methods', 'hosts', 'headers', 'paths', 'snis'], fn: httpMatchCheck(protocols) } },
  ],
} as const

const streamSubschema = {
  fields: {
    methods: forbidden(`cannot set 'methods' ${STREAM}`),
    hosts: forbidden(`cannot set 'hosts' ${STREAM}`),
    paths: forbidden(`cannot set 'paths' ${STREAM}`),
    headers: forbidden(`cannot set 'headers' ${STREAM}`),
  },
  entity_checks: [{ custom_entity_check: { field_sources: ['sources', 'destinations', 'snis'], fn: streamMatchCheck(protocols) } }],
} as const

const grpcSubschema = {
  fields: {
    strip_path: {
      type: 'boolean',
      required: true,
      default: false,
      description: 'When matching a Route via one of the paths, strip the matching prefix from the upstream request URL.',
      custom_validator: (v: unknown) => (v === true ? `cannot set 'strip_path' ${GRPC}` : undefined),
    },
    methods: forbidden(`cannot set 'methods' ${GRPC}`),
    sources: forbidden(`cannot set 'sources' ${GRPC}`),
    destinations: forbidden(`cannot set 'destinations' ${GRPC}`),
  },
  entity_checks: [{ custom_entity_check: { field_sources: ['hosts', 'headers', 'paths', 'snis'], fn: grpcMatchCheck(protocols) } }],
} as const

export const routes = {
  name: 'routes',
  primary_key: ['id'],
  endpoint_key: 'name',
  workspaceable: true,
  subschema_key: 'protocols',
  fields: {
    id: t.uuid,
    created_at: t.auto_timestamp_s,
    updated_at: t.auto_timestamp_s,
    name: t.utf8_name,
    protocols,
    https_redirect_status_code: {
      type: 'integer',
      one_of: [426, 301, 302, 307, 308],
      default: 426,
      required: true,
      description: 'The status code Kong responds with when all properties of a Route match except the protocol',
    },
    strip_path: {
      type: 'boolean',
      required: true,
      default: true,
      description: 'When matching a Route via one of the paths, strip the matching prefix from the upstream request URL.',
    },
    preserve_host: {
      type: 'boolean',
      required: true,
      default: false,
      description: 'When matching a Route via one of the hosts domain names, use the request Host header in the upstream request headers.',
    },
    request_buffering: {
      type: 'boolean',
      required: true,
      default: true,
      description: 'Whether to enable request body buffering or not. With HTTP 1.1.',
    },
    response_buffering: {
      type: 'boolean',
      required: true,
      default: true,
      description: 'Whether to enable response body buffering or not.',
    },
    tags: t.tags,
    service: {
      type: 'foreign',
      reference: 'services',
      on_delete: 'restrict',
      description: 'The Service this Route is associated to. This is where the Route proxies traffic to.',
    },
    snis,
    sources: t.sources,
    destinations: t.destinations,
    methods: t.methods,
    hosts: t.hosts,
    paths: t.router_paths,
    headers: { ...t.headers, keys: routeHeaderName(t.header_name) },
    regex_priority: {
      type: 'integer',
      default: 0,
      required: true,
      description:
        'A number used to choose which route resolves a given request when several routes match it using regexes simultaneously.',
    },
    path_handling: {
      type: 'string',
      default: 'v0',
      one_of: ['v0', 'v1'],
      required: true,
      description: 'Controls how the Service path, Route path and requested path are combined when sending a request to the upstream.',
    },
  },
  entity_checks: [{ custom_entity_check: { field_sources: ['protocols'], fn: snisCheck(snis) } }],
  subschemas: {
    http: httpSubschema,
    https: httpSubschema,
    tcp: streamSubschema,
    tls: streamSubschema,
    udp: streamSubschema,
    tls_passthrough: streamSubschema,
    grpc: grpcSubschema,
    grpcs: grpcSubschema,
  },
} as const satisfies EntitySchema

/** A stored route row. */
export type Route = InferRow<typeof routes>
