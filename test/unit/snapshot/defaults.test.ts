/**
 * The rows a worker compiles carry their schema's defaults, whichever way they were written: a
 * declarative (DB-less) load and Admin API writes through the DAO both fill in omitted fields, a
 * row read back from SQLite that predates a field gets it on load, and the snapshot takes them as
 * they are (it applies no defaults of its own).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { Dao } from '../../../src/dao/dao.js'
import { entityGraph, loadDeclarativeText, describeProblems } from '../../../src/declarative/index.js'
import { replaceStoreContents } from '../../../src/declarative/load.js'
import { SNAPSHOT_CORE_ENTITIES } from '../../../src/entities/index.js'
import { entityRegistry } from '../../../src/plugins/entity.js'
import { loadPlugins } from '../../../src/plugins/registry.js'
import { resolveEntry } from '../../../src/plugins/plan.js'
import { ConfigPublisher } from '../../../src/runtime/config-publisher.js'
import { storeEntity } from '../../../src/schema/index.js'
import { buildSnapshot, type ConfigPayload } from '../../../src/snapshot/snapshot.js'
import { createStore } from '../../../src/store/index.js'
import type { Store } from '../../../src/store/types.js'

const registry = await loadPlugins(['bundled'], null)
const ENTITIES = entityRegistry(registry)
const layouts = Object.values(ENTITIES).map((e) => storeEntity(e))

async function freshStore(path?: string): Promise<Store> {
  const store = path === undefined ? createStore({ kind: 'memory' }) : createStore({ kind: 'sqlite', path })
  await store.init(layouts)
  return store
}

/** What the primary sends the workers: the publisher's first configuration, from the store. */
function publisherFor(store: Store): ConfigPublisher {
  return new ConfigPublisher({
    store,
    entities: Object.keys(ENTITIES),
    schemas: ENTITIES,
    coalesceMs: 1,
    publish: () => {},
    onError: (err) => assert.fail(err),
  })
}

function compile(payload: ConfigPayload) {
  const entities = Object.values(ENTITIES)
    .filter((e) => !SNAPSHOT_CORE_ENTITIES.includes(e.name))
    .map((e) => storeEntity(e))
  return buildSnapshot(payload, { registry, entities })
}

/** Every default the snapshot relies on, as the entity and plugin schemas define them. */
function assertDefaults(payload: ConfigPayload): void {
  // The rows themselves, as sent to the workers…
  const row = payload.services[0]
  assert.deepEqual(
    {
      retries: row?.retries,
      connect_timeout: row?.connect_timeout,
      read_timeout: row?.read_timeout,
      write_timeout: row?.write_timeout,
      port: row?.port,
      enabled: row?.enabled,
    },
    { retries: 5, connect_timeout: 60000, read_timeout: 60000, write_timeout: 60000, port: 80, enabled: true },
  )
  assert.deepEqual(payload.plugins?.[0]?.protocols, ['grpc', 'grpcs', 'http', 'https'])
  // …and what the snapshot compiled from them.
  const snap = compile(payload)
  const svc = [...snap.services.values()][0]
  assert.ok(svc !== undefined)
  assert.deepEqual(
    {
      protocol: svc.protocol,
      port: svc.port,
      path: svc.path,
      retries: svc.retries,
      connect_timeout: svc.connect_timeout,
      read_timeout: svc.read_timeout,
      write_timeout: svc.write_timeout,
    },
    { protocol: 'http', port: 80, path: null, retries: 5, connect_timeout: 60000, read_timeout: 60000, write_timeout: 60000 },
  )
  assert.equal(svc.row.enabled, true)
  const m = snap.router.match({ method: 'GET', scheme: 'http', host: 'gw', port: 8000, path: '/a', headers: {} })
  assert.ok(m !== null, 'the route matches')
  const r = m.route
  assert.deepEqual(
    {
      protocols: r.protocols,
      strip_path: r.strip_path,
      preserve_host: r.preserve_host,
      regex_priority: r.regex_priority,
      path_handling: r.path_handling,
      https_redirect_status_code: r.https_redirect_status_code,
    },
    {
      protocols: ['http', 'https'],
      strip_path: true,
      preserve_host: false,
      regex_priority: 0,
      path_handling: 'v0',
      https_redirect_status_code: 426,
    },
  )
  const entry = r.plan?.entries.find((e) => e.plugin.name === 'request-termination')
  assert.ok(entry !== undefined, 'the plugin is in the route plan')
  // request-termination has no `prepare`: its handler receives the stored config as is.
  assert.deepEqual(resolveEntry(entry, null)?.conf, {
    status_code: 503,
    message: null,
    body: null,
    content_type: null,
    echo: false,
    trigger: null,
  })
  const upstream = payload.entities?.upstreams?.[0]
  assert.equal(upstream?.slots, 10000)
  assert.equal(upstream?.algorithm, 'round-robin')
  assert.equal(upstream?.healthchecks.active.http_path, '/')
  assert.equal(payload.entities?.targets?.[0]?.weight, 100)
}

describe('rows reach the snapshot with their defaults', () => {
  test('declarative (DB-less) load, every optional field omitted', async () => {
    const text = [
      '_format_version: "3.0"',
      'services:',
      '- name: s',
      '  host: backend.internal',
      '  routes:',
      '  - name: r',
      '    paths: [/a]',
      '    plugins:',
      '    - name: request-termination',
      'upstreams:',
      '- name: pool.internal',
      '  targets:',
      '  - target: 10.0.0.1',
      '',
    ].join('\n')
    const loaded = loadDeclarativeText(text, entityGraph(ENTITIES))
    if (!loaded.ok) assert.fail(describeProblems(loaded.problems).join('\n'))
    const store = await freshStore()
    await replaceStoreContents(store, entityGraph(ENTITIES), loaded.config)
    assertDefaults(await publisherFor(store).load())
  })

  test('Admin API writes (the DAO), every optional field omitted', async () => {
    const store = await freshStore()
    const dao = new Dao(store, ENTITIES)
    const service = await dao.insert('services', { name: 's', host: 'backend.internal' })
    const route = await dao.insert('routes', { name: 'r', paths: ['/a'], service: { id: service.id } })
    await dao.insert('plugins', { name: 'request-termination', route: { id: route.id } })
    const upstream = await dao.insert('upstreams', { name: 'pool.internal' })
    await dao.insert('targets', { upstream: { id: upstream.id }, target: '10.0.0.1' })
    assertDefaults(await publisherFor(store).load())
  })

  test('SQLite load at start: a stored row written before a field existed gets its default', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'turnpike-defaults-'))
    try {
      const store = await freshStore(join(dir, 'turnpike.db'))
      const dao = new Dao(store, ENTITIES)
      const service = await dao.insert('services', { name: 's', host: 'backend.internal' })
      const route = await dao.insert('routes', { name: 'r', paths: ['/a'], service: { id: service.id } })
      const plugin = await dao.insert('plugins', { name: 'request-termination', route: { id: route.id } })
      const upstream = await dao.insert('upstreams', { name: 'pool.internal' })
      await dao.insert('targets', { upstream: { id: upstream.id }, target: '10.0.0.1' })
      // As an older version stored them: without fields the schemas gained since.
      const { request_buffering: _rb, response_buffering: _sb, ...oldRoute } = route
      const { ordering: _o, ...oldPlugin } = plugin
      const { retries: _r, ...oldService } = service
      await store.update('routes', oldRoute)
      await store.update('plugins', oldPlugin)
      await store.update('services', oldService)
      assert.equal(Object.hasOwn((await store.select('routes', route.id)) ?? {}, 'request_buffering'), false)
      const payload = await publisherFor(store).load()
      assert.equal(payload.routes[0]?.request_buffering, true)
      assert.equal(payload.routes[0]?.response_buffering, true)
      assert.equal(payload.plugins?.[0]?.ordering, null)
      assertDefaults(payload)
      await store.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
