/** Builds route rows for router tests with Kong's defaults. */
import type { RouteInput } from '../../../src/router/index.js'

let counter = 0

/** A route with Kong's defaults; `id` defaults to a fresh, increasing UUID-shaped string. */
export function route(fields: Partial<RouteInput> = {}): RouteInput {
  counter++
  return {
    id: `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`,
    name: null,
    protocols: ['http', 'https'],
    methods: null,
    hosts: null,
    paths: null,
    headers: null,
    snis: null,
    strip_path: true,
    preserve_host: false,
    regex_priority: 0,
    path_handling: 'v0',
    https_redirect_status_code: 426,
    created_at: 1700000000,
    service: null,
    ...fields,
  }
}

/** A request with neutral defaults. */
export function req(fields: Partial<import('../../../src/router/index.js').MatchInput> = {}) {
  return { method: 'GET', scheme: 'http', host: 'example.test', port: 8000, path: '/', headers: {}, ...fields }
}
