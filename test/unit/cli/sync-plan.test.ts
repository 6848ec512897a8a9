/**
 * The sync planner on the real registry (plugins and their credential entities): plugins are
 * matched by scope (Kong's cache key) or instance_name, not by id; nested and flat files plan
 * the same; select tags bound what is touched; basic-auth passwords follow `_transform`.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { parse } from 'yaml'
import { entityRegistry } from '../../../src/plugins/entity.js'
import { loadPlugins } from '../../../src/plugins/registry.js'
import { hashBasicAuthPassword } from '../../../src/plugins/basic-auth/entities.js'
import { deckDump, describeProblems, entityGraph, loadDeclarativeText } from '../../../src/declarative/index.js'
import { describePlan, planSync } from '../../../src/cli/sync/sync.js'
import type { Row } from '../../../src/store/types.js'

const graph = entityGraph(entityRegistry(await loadPlugins(['bundled'], null)))

/** What a gateway holds after loading `text`, with random ids on plugins (as Admin API creates make). */
function gatewayState(text: string): Record<string, Row[]> {
  const r = loadDeclarativeText(text, graph, 'kong.yml')
  if (!r.ok) assert.fail(describeProblems(r.problems).join('\n'))
  const out: Record<string, Row[]> = {}
  for (const [entity, rows] of Object.entries(r.config.entities))
    out[entity] = rows.map((row) => (entity === 'plugins' ? { ...row, id: randomUUID() } : { ...row }))
  return out
}

const plan = (text: string, current: Record<string, Row[]>, tags: string[] = []) =>
  planSync(parse(text) as Record<string, unknown>, current, graph, tags)
const ops = (p: ReturnType<typeof plan>): string[] => p.changes.map((c) => `${c.op} ${c.entity} ${c.label}`)

const NESTED = `_format_version: "3.0"
services:
- name: svc
  host: example.test
  plugins:
  - name: rate-limiting
    config: { minute: 10, policy: local }
  routes:
  - name: r1
    paths: [/r1]
    plugins:
    - name: rate-limiting
      config: { minute: 20, policy: local }
consumers:
- username: bob
  plugins:
  - name: rate-limiting
    config: { minute: 30, policy: local }
plugins:
- name: rate-limiting
  config: { minute: 40, policy: local }
`

const FLAT = `_format_version: "3.0"
services:
- name: svc
  host: example.test
routes:
- name: r1
  service: svc
  paths: [/r1]
consumers:
- username: bob
plugins:
- name: rate-limiting
  config: { minute: 40, policy: local }
- name: rate-limiting
  consumer: bob
  config: { minute: 30, policy: local }
- name: rate-limiting
  route: r1
  config: { minute: 20, policy: local }
- name: rate-limiting
  service: svc
  config: { minute: 10, policy: local }
`

describe('plugins are matched by scope', () => {
  test('nested and flat files describe the same state: no change either way', () => {
    assert.deepEqual(ops(plan(FLAT, gatewayState(NESTED))), [])
    assert.deepEqual(ops(plan(NESTED, gatewayState(FLAT))), [])
  })

  test('a changed config at each scope (global, service, route, consumer) is an update of the same id', () => {
    const current = gatewayState(NESTED)
    const changed = NESTED.replace('minute: 10', 'minute: 11')
      .replace('minute: 20', 'minute: 21')
      .replace('minute: 30', 'minute: 31')
      .replace('minute: 40', 'minute: 41')
    const p = plan(changed, current)
    assert.deepEqual(ops(p), [
      'update plugins rate-limiting for service svc',
      'update plugins rate-limiting for route r1',
      'update plugins rate-limiting for consumer bob',
      'update plugins rate-limiting (global)',
    ])
    const ids = new Set((current['plugins'] ?? []).map((r) => r.id))
    for (const c of p.changes) assert.ok(ids.has(c.id), 'the gateway id is kept')
    assert.deepEqual(p.changes[0]?.fields, { 'config.minute': [10, 11] })
    assert.match(describePlan(p).join('\n'), /^updating plugin rate-limiting for service svc\n  config\.minute: 10 → 11$/m)
  })

  test('moving a plugin to another scope is a delete and a create; instance_name matches across scopes', () => {
    const current = gatewayState(FLAT)
    const moved = FLAT.replace('  route: r1\n', '  route: r1\n  service: svc\n')
    assert.deepEqual(ops(plan(moved, current)).sort(), [
      'create plugins rate-limiting for route r1, service svc',
      'delete plugins rate-limiting for route r1',
    ])
    const named = gatewayState(FLAT.replace('  route: r1\n', '  route: r1\n  instance_name: rl-r1\n'))
    const renamedScope = FLAT.replace('  route: r1\n', '  instance_name: rl-r1\n  route: r1\n  service: svc\n')
    const p = plan(renamedScope, named)
    assert.deepEqual(ops(p), ['update plugins rl-r1'])
    assert.deepEqual(Object.keys(p.changes[0]?.fields ?? {}), ['service'])
  })

  test('select tags: only tagged plugins are updated or deleted; the others stay in the target', () => {
    const current = gatewayState(NESTED)
    for (const row of current['plugins'] ?? []) if (row['consumer'] !== null) row['tags'] = ['team-p']
    const p = plan('_format_version: "3.0"\nplugins:\n- name: cors\n  config: { origins: ["https://a.test"] }\n', current, ['team-p'])
    assert.deepEqual(ops(p), ['create plugins cors (global)', 'delete plugins rate-limiting for consumer bob'])
    assert.equal(p.target['plugins']?.length, 4, '3 untagged kept + 1 created')
  })
})

describe('basic-auth passwords and _transform', () => {
  const FILE = `_format_version: "3.0"
consumers:
- username: alice
  basicauth_credentials:
  - username: alice
    password: s3cret
`
  test('a DB-less load hashes clear passwords once (_transform: true), keeps digests (_transform: false)', () => {
    const clear = loadDeclarativeText(FILE, graph, 'kong.yml')
    assert.ok(clear.ok)
    const consumerId = clear.config.entities['consumers']?.[0]?.id as string
    const digest = hashBasicAuthPassword(consumerId, 's3cret')
    assert.equal(clear.config.entities['basicauth_credentials']?.[0]?.['password'], digest)
    const hashed = loadDeclarativeText(FILE.replace('"3.0"', '"3.0"\n_transform: false').replace('s3cret', digest), graph, 'kong.yml')
    assert.ok(hashed.ok)
    assert.equal(hashed.config.entities['basicauth_credentials']?.[0]?.['password'], digest)
  })

  test('sync compares clear passwords by digest; a dump of digests is idempotent and flagged for database nodes', () => {
    const current = gatewayState(FILE)
    assert.deepEqual(ops(plan(FILE, current)), [])
    const changed = plan(FILE.replace('s3cret', 'other'), current)
    assert.deepEqual(ops(changed), ['update basicauth_credentials alice'])
    assert.deepEqual(changed.changes[0]?.fields, { password: ['(hidden)', '(changed)'] })
    assert.equal(changed.changes[0]?.row?.['password'], 'other', 'sent as written: the gateway hashes it')
    assert.equal(changed.changes[0]?.storedOnly, undefined)

    const dump = deckDump(current, graph)
    assert.equal(dump['_transform'], false)
    const dumped = JSON.stringify(dump)
    assert.equal(ops(planSync(JSON.parse(dumped) as Record<string, unknown>, current, graph)).length, 0)
    const intoEmpty = planSync(JSON.parse(dumped) as Record<string, unknown>, {}, graph)
    const cred = intoEmpty.changes.find((c) => c.entity === 'basicauth_credentials')
    assert.equal(cred?.storedOnly, true)
    assert.equal(intoEmpty.target['basicauth_credentials']?.[0]?.['password'], current['basicauth_credentials']?.[0]?.['password'])
    assert.equal(intoEmpty.target['consumers']?.[0]?.id, current['consumers']?.[0]?.id, 'the consumer id (the salt) is kept')
  })
})
