/**
 * DB-less mode with the real gateway: start from a declarative file, `POST /config` (JSON, YAML,
 * form) with Kong's answers, `GET /config`, `configuration_hash`, a swap under traffic with zero
 * failed requests, the writable opt-in, and a refused file at start.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { BIN, ROOT, call, eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'

const md5 = (s: string): string => createHash('md5').update(s).digest('hex')

describe('DB-less: declarative_config and /config', () => {
  let upstream: TestUpstream
  let gw: TestGateway
  let dir: string
  let fileText: string

  before(async () => {
    upstream = await startUpstream()
    dir = mkdtempSync(join(tmpdir(), 'turnpike-dbless-'))
    fileText = readFileSync(join(ROOT, 'test/fixtures/declarative/basic.yaml'), 'utf8').replaceAll('UPSTREAM_PORT', String(upstream.port))
    writeFileSync(join(dir, 'kong.yml'), fileText)
    gw = await startTestGateway({ workers: 2, settings: { database: 'off', declarative_config: join(dir, 'kong.yml') } })
  })
  after(async () => {
    await gw?.stop()
    await upstream?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('the file is loaded at start and proxies; /status shows its md5', async () => {
    const res = await call('GET', `${gw.proxyUrl}/echo/x`)
    assert.equal(res.status, 200)
    assert.equal(res.body.url, '/base/x')
    const other = await call('GET', `${gw.proxyUrl}/`, undefined, { host: 'other.test' })
    assert.equal(other.status, 200)
    const status = await call('GET', `${gw.adminUrl}/status`)
    assert.equal(status.body.configuration_hash, md5(fileText))
    const services = await call('GET', `${gw.adminUrl}/services`)
    assert.deepEqual(services.body.data.map((s: { name: string }) => s.name).sort(), ['echo', 'other'])
  })

  test("Admin API writes are refused with Kong's 405 by default", async () => {
    const res = await call('POST', `${gw.adminUrl}/services`, { name: 'x', url: 'http://127.0.0.1:1' })
    assert.equal(res.status, 405)
    assert.equal(res.body.message, "cannot create 'services' entities when not using a database")
  })

  test('GET /config returns the configuration as Kong-format YAML', async () => {
    const res = await call('GET', `${gw.adminUrl}/config`)
    assert.equal(res.status, 200)
    assert.match(res.body.config, /^_format_version: "3\.0"\n_transform: false\n/)
    assert.match(res.body.config, /name: echo-route/)
  })

  test('POST /config: YAML body → 201 with the entities, check_hash=1 → 304, then JSON and form bodies', async () => {
    const yaml = `_format_version: "3.0"\nservices:\n- name: swapped\n  url: http://127.0.0.1:${upstream.port}/swapped\n  routes:\n  - name: r\n    paths: [/echo]\n`
    const res = await call('POST', `${gw.adminUrl}/config`, yaml, { 'content-type': 'text/yaml' })
    assert.equal(res.status, 201)
    const ids = Object.keys(res.body.services)
    assert.equal(ids.length, 1)
    assert.equal(res.body.services[ids[0] as string].name, 'swapped')
    assert.equal((await call('GET', `${gw.adminUrl}/status`)).body.configuration_hash, md5(yaml))
    await eventually(async () => (await call('GET', `${gw.proxyUrl}/echo/1`)).body?.url === '/swapped/1', 5000, 'the new config')
    const same = await call('POST', `${gw.adminUrl}/config?check_hash=1`, yaml, { 'content-type': 'text/yaml' })
    assert.equal(same.status, 304)

    const json = {
      _format_version: '3.0',
      services: [{ name: 'j', url: `http://127.0.0.1:${upstream.port}/j`, routes: [{ name: 'rj', paths: ['/echo'] }] }],
    }
    const byJson = await call('POST', `${gw.adminUrl}/config`, json)
    assert.equal(byJson.status, 201)
    const form = `config=${encodeURIComponent(fileText)}`
    const byForm = await call('POST', `${gw.adminUrl}/config`, form, { 'content-type': 'application/x-www-form-urlencoded' })
    assert.equal(byForm.status, 201)
    assert.equal((await call('GET', `${gw.adminUrl}/status`)).body.configuration_hash, md5(fileText))
    await eventually(async () => (await call('GET', `${gw.proxyUrl}/echo/1`)).body?.url === '/base/1', 5000, 'the file config again')
  })

  test('POST /config with an invalid configuration: 400, nothing changes; flatten_errors=1 lists each entity', async () => {
    const bad = {
      _format_version: '3.0',
      services: [{ name: 'nohost' }, { name: 'ok', host: 'h', routes: [{ name: 'r', paths: ['nope'] }] }],
    }
    const res = await call('POST', `${gw.adminUrl}/config`, bad)
    assert.equal(res.status, 400)
    assert.equal(res.body.code, 14)
    assert.equal(res.body.name, 'invalid declarative configuration')
    assert.deepEqual(res.body.fields, {
      services: [{ host: 'required field missing' }, { routes: [{ paths: ['should start with: / (fixed path) or ~/ (regex path)'] }] }],
    })
    const flat = await call('POST', `${gw.adminUrl}/config?flatten_errors=1`, bad)
    assert.equal(flat.status, 400)
    assert.deepEqual(
      flat.body.flattened_errors.map((e: { entity_type: string; entity_name: string; errors: unknown }) => [
        e.entity_type,
        e.entity_name,
        e.errors,
      ]),
      [
        ['route', 'r', [{ type: 'field', field: 'paths.1', message: 'should start with: / (fixed path) or ~/ (regex path)' }]],
        ['service', 'nohost', [{ type: 'field', field: 'host', message: 'required field missing' }]],
      ],
    )
    const empty = await call('POST', `${gw.adminUrl}/config`, '', { 'content-type': 'text/yaml' })
    assert.equal(empty.status, 400)
    assert.equal(empty.body.message, 'expected a declarative configuration')
    assert.equal((await call('GET', `${gw.proxyUrl}/echo/2`)).status, 200)
  })

  test('POST /config while traffic flows: zero failed requests', async () => {
    const configs = [0, 1, 2, 3, 4, 5].map(
      (i) =>
        `_format_version: "3.0"\nservices:\n- name: s${i}\n  url: http://127.0.0.1:${upstream.port}/v${i}\n  routes:\n  - name: r${i}\n    paths: [/echo]\n`,
    )
    let stop = false
    let ok = 0
    const failures: string[] = []
    const client = async (): Promise<void> => {
      for (let n = 0; n < 5000 && !stop; n++) {
        const res = await request(`${gw.proxyUrl}/echo/t`)
        const text = await res.body.text()
        if (res.statusCode === 200) ok++
        else failures.push(`${res.statusCode} ${text}`)
      }
    }
    const clients = [client(), client(), client(), client()]
    for (const c of configs) {
      const res = await call('POST', `${gw.adminUrl}/config`, c, { 'content-type': 'application/x-yaml' })
      assert.equal(res.status, 201)
      await new Promise((r) => setTimeout(r, 150))
    }
    stop = true
    await Promise.all(clients)
    assert.deepEqual(failures, [])
    assert.ok(ok > 100, `only ${ok} requests went through`)
  })
})

describe('DB-less: declarative_config_writable = on', () => {
  test('Admin API writes are allowed and written back to the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'turnpike-dbless-w-'))
    const file = join(dir, 'kong.yml')
    writeFileSync(file, '_format_version: "3.0"\nservices:\n- name: first\n  url: http://127.0.0.1:1\n')
    const gw = await startTestGateway({ settings: { database: 'off', declarative_config: file, declarative_config_writable: 'on' } })
    try {
      const res = await call('POST', `${gw.adminUrl}/services`, { name: 'second', url: 'http://127.0.0.1:2' })
      assert.equal(res.status, 201)
      await eventually(async () => readFileSync(file, 'utf8').includes('name: second'), 5000, 'the file to be rewritten')
      const text = readFileSync(file, 'utf8')
      assert.match(text, /name: first/)
      const status = await call('GET', `${gw.adminUrl}/status`)
      assert.equal(status.body.configuration_hash, md5(text))
    } finally {
      await gw.stop()
    }
    // the written file starts a node with both services
    const again = await startTestGateway({ settings: { database: 'off', declarative_config: file } })
    try {
      const services = await call('GET', `${again.adminUrl}/services`)
      assert.deepEqual(services.body.data.map((s: { name: string }) => s.name).sort(), ['first', 'second'])
    } finally {
      await again.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('DB-less: a refused file at start', () => {
  test('the start fails with one line per problem, naming entity and field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'turnpike-dbless-bad-'))
    try {
      const file = join(ROOT, 'test/fixtures/declarative/invalid.yaml')
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        TURNPIKE_PREFIX: dir,
        TURNPIKE_DATABASE: 'off',
        TURNPIKE_DECLARATIVE_CONFIG: file,
        TURNPIKE_PROXY_LISTEN: '127.0.0.1:0',
        TURNPIKE_ADMIN_LISTEN: '127.0.0.1:0',
        TURNPIKE_STATUS_LISTEN: 'off',
      }
      const res = spawnSync(process.execPath, [BIN, 'start'], { env, encoding: 'utf8', timeout: 20_000 })
      assert.equal(res.status, 1)
      assert.equal(
        res.stderr,
        [
          `Error: declarative config ${file} is invalid (4 problems):`,
          "  filter_chains[0] (name 'wasm-chain'): entity 'filter_chains' is not supported yet",
          "  routes[0] (name 'dangling'): invalid reference 'service: nowhere' (no such entry in 'services')",
          "  services[0] (name 'no-host'): field 'host': required field missing",
          "  services[1].routes[0] (name 'bad-route'): field 'paths.1': should start with: / (fixed path) or ~/ (regex path)",
          '',
        ].join('\n'),
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
