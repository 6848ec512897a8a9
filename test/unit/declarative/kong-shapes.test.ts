/**
 * Declarative files as Kong 3.9.3 writes and refuses them: `parameters` from `kong config
 * db_export`, the unknown-plugin message, every refused entity of a kind, the `path_handling: v1`
 * deprecation, and the 400 body's `fields`/`flattened_errors` keyed as Kong keys them.
 * Transcribed from Kong's spec/02-integration/04-admin_api/15-off_spec.lua and
 * spec/01-unit/01-db/01-schema/11-declarative_config/03-flatten_spec.lua (tag 3.9.3).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { entityRegistry } from '../../../src/plugins/entity.js'
import { loadPlugins } from '../../../src/plugins/registry.js'
import { deckDump, describeProblems, entityGraph, invalidConfigBody, loadDeclarativeText, toYaml } from '../../../src/declarative/index.js'
import { childKeys, PATH_V1_DEPRECATION } from '../../../src/declarative/flatten.js'

const graph = entityGraph(entityRegistry(await loadPlugins(['bundled'], null)))
const SUPOS = '/work/shared/kong/realworld-configs/FREEZONEX-supOS-CE__mount-kong__kong_config.yml.tpl.yaml'

function body(yaml: string, flatten = false): Record<string, unknown> {
  const r = loadDeclarativeText(yaml, graph)
  assert.equal(r.ok, false)
  if (r.ok) throw new Error('unreachable')
  return invalidConfigBody(r.problems, flatten, childKeys(graph))
}

describe('declarative files as Kong writes them', () => {
  test('`parameters` (kong config db_export) is accepted; a parameter without a value is refused', () => {
    const ok = loadDeclarativeText(
      `_format_version: "3.0"\n_transform: false\nparameters:\n- key: cluster_id\n  created_at: 1742432166\n  value: ce8f9346-2b44-46af-af55-ab141518e1bb\n`,
      graph,
    )
    assert.equal(ok.ok, true)
    const bad = loadDeclarativeText(`_format_version: "3.0"\nparameters:\n- key: cluster_id\n`, graph)
    assert.equal(bad.ok, false)
    if (!bad.ok) assert.deepEqual(describeProblems(bad.problems), ["parameters[0]: field 'value': required field missing"])
  })

  test('the supOS export: only its two custom plugins are refused, with Kong\'s "not enabled" message', (t) => {
    if (!existsSync(SUPOS)) return t.skip('shared real-world file not present')
    const r = loadDeclarativeText(readFileSync(SUPOS, 'utf8'), graph)
    assert.equal(r.ok, false)
    if (r.ok) return
    assert.deepEqual(describeProblems(r.problems), [
      "plugins[0] (name 'supos-auth-checker'): field 'name': plugin 'supos-auth-checker' not enabled; add it to the 'plugins' configuration property",
      "plugins[7] (name 'supos-url-transformer'): field 'name': plugin 'supos-url-transformer' not enabled; add it to the 'plugins' configuration property",
    ])
  })

  test('an unknown plugin in the 400 body and in flattened_errors', () => {
    const b = body(`_format_version: "3.0"\nplugins:\n- name: not-a-plugin\n`)
    assert.deepEqual(b['fields'], {
      plugins: [{ name: "plugin 'not-a-plugin' not enabled; add it to the 'plugins' configuration property" }],
    })
    const f = body(`_format_version: "3.0"\nplugins:\n- name: not-a-plugin\n`, true)
    const entry = (f['flattened_errors'] as Record<string, unknown>[])[0] as Record<string, unknown>
    assert.deepEqual(entry['errors'], [
      { type: 'field', field: 'name', message: "plugin 'not-a-plugin' not enabled; add it to the 'plugins' configuration property" },
    ])
  })

  test('every refused entity of a kind is listed, top level and nested', () => {
    const r = loadDeclarativeText(
      `_format_version: "3.0"\nfilter_chains:\n- name: a\n- name: b\nservices:\n- name: s\n  url: http://x\n  filter_chains:\n  - name: c\n  - name: d\n`,
      graph,
    )
    assert.equal(r.ok, false)
    if (r.ok) return
    const lines = describeProblems(r.problems).filter((l) => l.includes("'filter_chains' is not supported"))
    assert.equal(lines.length, 4, lines.join('\n'))
  })

  test("path_handling: v1 loads with Kong's deprecation warning", () => {
    const r = loadDeclarativeText(
      `_format_version: "3.0"\nservices:\n- name: s\n  url: http://x\n  routes:\n  - name: r\n    paths: [/a]\n    path_handling: v1\n`,
      graph,
    )
    assert.equal(r.ok, true)
    if (!r.ok) return
    assert.deepEqual(r.config.warnings, [PATH_V1_DEPRECATION])
    assert.match(PATH_V1_DEPRECATION, /^path_handling='v1' is deprecated and will not work under/)
    const v0 = loadDeclarativeText(`_format_version: "3.0"\nroutes:\n- name: r\n  paths: [/a]\n`, graph)
    assert.equal(v0.ok && v0.config.warnings, undefined)
  })

  // Kong 3.9.3 spec/03-plugins/23-rate-limiting/05-integration_spec.lua: the warning lines for the
  // deprecated redis_* shorthands (kong.deprecation via validate_field), none for `redis.*`
  test("rate-limiting's redis_* shorthands load with Kong's deprecation warnings, redis.* with none", () => {
    const r = loadDeclarativeText(
      `_format_version: "3.0"\nplugins:\n- name: rate-limiting\n  config:\n    minute: 5\n    redis_host: h.test\n    redis_port: 6390\n    redis_ssl: null\n`,
      graph,
    )
    assert.equal(r.ok, true)
    if (!r.ok) return
    assert.deepEqual(r.config.warnings, [
      'rate-limiting: config.redis_host is deprecated, please use config.redis.host instead (deprecated after 4.0)',
      'rate-limiting: config.redis_port is deprecated, please use config.redis.port instead (deprecated after 4.0)',
    ])
    const plugin = r.config.entities['plugins']?.[0] as unknown as {
      config: { redis: { host: string; port: number }; redis_host?: unknown }
    }
    assert.equal(plugin.config.redis.host, 'h.test')
    assert.equal(plugin.config.redis.port, 6390)
    assert.equal('redis_host' in plugin.config, false, 'stored at the new place only')
    const modern = loadDeclarativeText(
      `_format_version: "3.0"\nplugins:\n- name: rate-limiting\n  config:\n    minute: 5\n    redis: { host: h.test }\n`,
      graph,
    )
    assert.equal(modern.ok && modern.config.warnings, undefined)
  })
})

describe("POST /config 400 bodies keyed as Kong's (15-off_spec.lua, 03-flatten_spec.lua)", () => {
  test('a primary key declared twice: a plain string at the duplicate position', () => {
    const id = '0855b320-0dd2-547d-891d-601e9b38647f'
    const b = body(
      `_format_version: "1.1"\nservices:\n- id: ${id}\n  name: foo\n  host: example.com\n- id: ${id}\n  name: bar\n  host: example.test\n  routes:\n  - name: bar\n    paths: [/]\n`,
    )
    const message = `uniqueness violation: 'services' entity with primary key set to '${id}' already declared`
    assert.deepEqual(b['fields'], { services: [null, message] })
    assert.equal(b['message'], `declarative config is invalid: {services={[2]="${message}"}}`)
  })

  test('an endpoint key declared twice', () => {
    const b = body(`_format_version: "1.1"\nservices:\n- name: foo\n  host: example.com\n- name: foo\n  host: example.test\n`)
    assert.deepEqual(b['fields'], {
      services: [null, "uniqueness violation: 'services' entity with name set to 'foo' already declared"],
    })
  })

  test('another unique field declared twice: keyed by the username', () => {
    const b = body(`_format_version: "1.1"\nconsumers:\n- username: foo\n  custom_id: conflict\n- username: bar\n  custom_id: conflict\n`)
    assert.deepEqual(b['fields'], {
      consumers: { bar: "uniqueness violation: 'consumers' entity with custom_id set to 'conflict' already declared" },
    })
  })

  test('missing references: under the referring entity, by index or by name', () => {
    const b = body(
      `_format_version: "1.1"\nplugins:\n- name: http-log\n  service: svc1\n  consumer: my-consumer\n  config:\n    http_endpoint: https://example.com\n`,
    )
    const fields = b['fields'] as { plugins: string[][] }
    assert.deepEqual([...(fields.plugins[0] ?? [])].sort(), [
      "invalid reference 'consumer: my-consumer' (no such entry in 'consumers')",
      "invalid reference 'service: svc1' (no such entry in 'services')",
    ])
    const byName = body(
      `_format_version: "2.1"\nservices:\n- name: my-service-1\n  url: http://localhost:8001/status\nroutes:\n- name: my-route-1\n  service:\n    id: "769bdf51-16df-5476-9830-ef26800b5448"\n  paths: [/status]\n`,
    )
    assert.deepEqual(byName['fields'], {
      routes: {
        'my-route-1': [`invalid reference 'service: {"id":"769bdf51-16df-5476-9830-ef26800b5448"}' (no such entry in 'services')`],
      },
    })
  })

  test('schema errors come alone, before duplicates (Kong stops at the first stage)', () => {
    const b = body(`_format_version: "1.1"\nservices:\n- name: foo\n  host: example.com\n- name: foo\n  port: -12\n`)
    assert.deepEqual(b['fields'], { services: [null, { host: 'required field missing', port: 'value should be between 0 and 65535' }] })
  })

  test('flattened_errors: ids given or generated, and the foreign key of nested entities', () => {
    const id = 'cb019421-62c2-47a8-b714-d7567b114037'
    const f = body(
      `_format_version: "3.0"\nservices:\n- id: ${id}\n  name: test\n  host: localhost\n  protocol: nope\n  tags: [service-1]\n  routes:\n  - super_duper_invalid: true\n    tags: [route-1]\n`,
      true,
    )
    const list = f['flattened_errors'] as { entity: Record<string, unknown>; entity_id?: string; entity_tags?: string[] }[]
    const service = list.find((e) => e.entity_tags?.[0] === 'service-1')
    const route = list.find((e) => e.entity_tags?.[0] === 'route-1')
    assert.equal(service?.entity_id, id)
    assert.equal(service?.entity['id'], id)
    assert.deepEqual(route?.entity['service'], { id })

    const target = { target: '10.244.0.12:80', weight: 1 }
    const dupes = body(
      `_format_version: "3.0"\nupstreams:\n- name: u\n  targets:\n  - ${JSON.stringify({ ...target, tags: ['target-1'] })}\n  - ${JSON.stringify({ ...target, tags: ['target-2'] })}\n`,
      true,
    )
    const entry = (dupes['flattened_errors'] as { entity_tags?: string[]; entity_id?: string; errors: unknown[] }[]).find(
      (e) => e.entity_tags?.[0] === 'target-2',
    )
    assert.ok(entry, JSON.stringify(dupes))
    assert.deepEqual(entry.errors, [
      {
        type: 'entity',
        message: `uniqueness violation: 'targets' entity with primary key set to '${entry.entity_id ?? ''}' already declared`,
      },
    ])
  })
})

describe('config dump writes what Kong OSS accepts', () => {
  const load = (yaml: string): Record<string, import('../../../src/store/index.js').Row[]> => {
    const r = loadDeclarativeText(yaml, graph)
    if (!r.ok) throw new Error(describeProblems(r.problems).join('\n'))
    return r.config.entities
  }
  test('no deprecated redis_* nulls, no Turnpike-only field at its default; set values stay', () => {
    const rows = load(
      `_format_version: "3.0"\nplugins:\n- name: rate-limiting\n  config:\n    minute: 5\n- name: http-log\n  config:\n    http_endpoint: http://127.0.0.1:9/log\n`,
    )
    const text = toYaml(deckDump(rows, graph))
    assert.doesNotMatch(text, /redis_|window_type|retry_count|queue_size|flush_timeout/)
    assert.match(text, /\n {4}redis:\n/)
    const kept = toYaml(
      deckDump(
        load(
          `_format_version: "3.0"\nplugins:\n- name: rate-limiting\n  config:\n    minute: 5\n    window_type: sliding\n    redis_host: redis.test\n`,
        ),
        graph,
      ),
    )
    assert.match(kept, /window_type: sliding/)
    // a deprecated shorthand is written at its new place (Kong 3.9 stores it there too)
    assert.doesNotMatch(kept, /redis_/)
    assert.match(kept, /\n {4}redis:\n(?: {6}.*\n)* {6}host: redis\.test\n/)
    // and the dump loads back to the same rows
    const again = loadDeclarativeText(text, graph)
    assert.equal(again.ok, true)
  })
})

describe("flattened_errors messages (15-off_spec.lua 'sanity', the parts Turnpike implements)", () => {
  const input = `_format_version: "3.0"
consumers:
- username: bobby_in_json_body
  not_allowed: true
  tags: [consumer-02]
plugins:
- name: http-log
  config:
    http_endpoint: "invalid::#//url"
  tags: [global_plugin-01]
services:
- name: nope
  host: localhost
  port: 1234
  protocol: nope
  tags: [service-01]
  routes:
  - name: nope.route
    protocols: [tcp]
    tags: [route_service-02, service-01]
- name: mis-matched
  host: localhost
  protocol: tcp
  path: /path
  tags: [service-02]
- name: bad-service-plugins
  url: http://localhost:1234
  tags: [service-03]
  plugins:
  - name: i-dont-exist
    config: {}
    tags: [service_plugin-01, service-03]
upstreams:
- name: ok
  tags: [upstream-03]
  targets:
  - target: "hostname:1.0"
    tags: [upstream_target-02, upstream-03]
`
  const flat = (body(input, true)['flattened_errors'] as Record<string, unknown>[]).map((e) => [(e['entity_tags'] as string[])[0], e])
  const byTag = new Map(flat as [string, Record<string, unknown>][])
  const errorsOf = (tag: string): unknown => byTag.get(tag)?.['errors']

  test('URL fields, unknown fields, route and service checks, unknown plugins, targets', () => {
    assert.deepEqual(errorsOf('global_plugin-01'), [{ type: 'field', field: 'config.http_endpoint', message: 'missing host in url' }])
    assert.deepEqual(errorsOf('consumer-02'), [{ type: 'field', field: 'not_allowed', message: 'unknown field' }])
    assert.deepEqual(errorsOf('route_service-02'), [
      { type: 'entity', message: "must set one of 'sources', 'destinations', 'snis' when 'protocols' is 'tcp', 'tls' or 'udp'" },
    ])
    assert.deepEqual(errorsOf('service-02'), [
      { type: 'field', field: 'path', message: 'value must be null' },
      { type: 'entity', message: "failed conditional validation given value of field 'protocol'" },
    ])
    assert.deepEqual(errorsOf('service_plugin-01'), [
      { type: 'field', field: 'name', message: "plugin 'i-dont-exist' not enabled; add it to the 'plugins' configuration property" },
    ])
    assert.deepEqual(errorsOf('upstream_target-02'), [
      { type: 'field', field: 'target', message: "Invalid target ('hostname:1.0'); not a valid hostname or ip address" },
    ])
  })

  test("a nested entity whose parent has no id in the file does not carry the parent's reference", () => {
    const route = byTag.get('route_service-02')?.['entity'] as Record<string, unknown>
    assert.deepEqual(route, { name: 'nope.route', protocols: ['tcp'], tags: ['route_service-02', 'service-01'] })
  })
})
