/**
 * `turnpike config …` against real gateways: sync (idempotent, by tag, deleting within tags),
 * diff without phantom changes, dump → sync into an empty gateway → dump round trip, validate,
 * sync into a DB-less node, db_import / db_export on a store.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, call, eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { type CliRun, runTurnpike } from '../../helpers/cli.js'
import { closedPort } from '../../helpers/ports.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'

/** `turnpike config ARGS…` */
const cli = (args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> => runTurnpike(['config', ...args], env)

const summary = (created: number, updated: number, deleted: number): string =>
  `Summary:\n  Created: ${created}\n  Updated: ${updated}\n  Deleted: ${deleted}\n`

describe('turnpike config against a running gateway', () => {
  let upstream: TestUpstream
  let gw: TestGateway
  let empty: TestGateway
  let dir: string
  let file: string

  before(async () => {
    upstream = await startUpstream()
    dir = mkdtempSync(join(tmpdir(), 'turnpike-cfgcli-'))
    file = join(dir, 'kong.yml')
    writeFileSync(
      file,
      readFileSync(join(ROOT, 'test/fixtures/declarative/basic.yaml'), 'utf8').replaceAll('UPSTREAM_PORT', String(upstream.port)),
    )
    // assigned as each starts, so that `after` stops whichever started if the other fails
    await Promise.all([startTestGateway().then((g) => (gw = g)), startTestGateway().then((g) => (empty = g))])
  })
  after(async () => {
    await Promise.all([gw?.stop(), empty?.stop()])
    await upstream?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('validate: a good file, and an invalid one with entity and field per problem', async () => {
    const good = await cli(['validate', file])
    assert.equal(good.status, 0, good.stderr)
    assert.match(good.stdout, /: valid \(format 3\.0; (?:0 [a-z_]+, )*2 services, 3 routes/)
    const bad = await cli(['validate', join(ROOT, 'test/fixtures/declarative/invalid.yaml')])
    assert.equal(bad.status, 1)
    assert.match(bad.stderr, /is invalid \(4 problems\):\n/)
    assert.match(bad.stderr, /  services\[0\] \(name 'no-host'\): field 'host': required field missing\n/)
    assert.match(bad.stderr, /  routes\[0\] \(name 'dangling'\): invalid reference 'service: nowhere' \(no such entry in 'services'\)\n/)
  })

  test('sync creates everything and proxies; a second sync changes nothing', async () => {
    const first = await cli(['sync', file, '--admin-url', gw.adminUrl])
    assert.equal(first.status, 0, first.stderr)
    assert.match(first.stdout, /^creating service echo\n/)
    assert.ok(first.stdout.endsWith(summary(5, 0, 0)), first.stdout)
    await eventually(async () => (await call('GET', `${gw.proxyUrl}/echo/a`)).status === 200, 5000, 'the synced route')
    assert.equal((await call('GET', `${gw.proxyUrl}/echo/a`)).body.url, '/base/a')
    const second = await cli(['sync', file, '--admin-url', gw.adminUrl])
    assert.equal(second.stdout, summary(0, 0, 0))
    const diff = await cli(['diff', file, '--admin-url', gw.adminUrl])
    assert.equal(diff.stdout, summary(0, 0, 0))
  })

  test('diff shows only the real change; --dry-run applies nothing', async () => {
    const changed = join(dir, 'changed.yml')
    writeFileSync(changed, readFileSync(file, 'utf8').replace('strip_path: false', 'strip_path: true'))
    const diff = await cli(['sync', changed, '--dry-run', '--admin-url', gw.adminUrl])
    assert.equal(diff.stdout, `updating route echo-keep\n  strip_path: false → true\n${summary(0, 1, 0)}`)
    const route = await call('GET', `${gw.adminUrl}/routes/echo-keep`)
    assert.equal(route.body.strip_path, false)
  })

  test('dump → sync into an empty gateway → dump gives the same file', async () => {
    const dumped = join(dir, 'dump.yml')
    const d1 = await cli(['dump', '-o', dumped, '--admin-url', gw.adminUrl])
    assert.equal(d1.status, 0, d1.stderr)
    const text = readFileSync(dumped, 'utf8')
    assert.match(text, /^_format_version: "3\.0"\nservices:\n/)
    const s = await cli(['sync', dumped, '--admin-url', empty.adminUrl])
    assert.ok(s.stdout.endsWith(summary(5, 0, 0)), s.stdout)
    const d2 = await cli(['dump', '--admin-url', empty.adminUrl])
    assert.equal(d2.stdout, text)
    // the Admin API token header is passed along
    const withHeader = await cli(['dump', '--admin-url', empty.adminUrl, '--header', 'Kong-Admin-Token: secret'])
    assert.equal(withHeader.stdout, text)
  })

  test('select tags: dump by tag, sync by tag deletes only within the tag and leaves the rest alone', async () => {
    const dumpA = await cli(['dump', '--select-tag', 'team-a', '--admin-url', gw.adminUrl])
    assert.match(dumpA.stdout, /^_format_version: "3\.0"\n_info:\n  select_tags:\n  - team-a\nservices:\n/)
    assert.doesNotMatch(dumpA.stdout, /other/)
    const onlyA = join(dir, 'team-a.yml')
    writeFileSync(onlyA, dumpA.stdout.replace(/  - https_redirect_status_code: 426\n    name: echo-keep\n[\s\S]*?strip_path: false\n/, ''))
    assert.doesNotMatch(readFileSync(onlyA, 'utf8'), /echo-keep/)
    const sync = await cli(['sync', onlyA, '--admin-url', gw.adminUrl])
    assert.equal(sync.stdout, `deleting route echo-keep\n${summary(0, 0, 1)}`)
    const names = (await call('GET', `${gw.adminUrl}/routes`)).body.data.map((r: { name: string }) => r.name).sort()
    assert.deepEqual(names, ['echo-route', 'other-route'])
    const again = await cli(['sync', onlyA, '--admin-url', gw.adminUrl])
    assert.equal(again.stdout, summary(0, 0, 0))
  })

  test('errors: an unreachable Admin API is named', async () => {
    const port = await closedPort()
    const res = await cli(['dump', '--admin-url', `http://127.0.0.1:${port}`])
    assert.equal(res.status, 1)
    assert.equal(
      res.stderr,
      `Error: cannot reach the Admin API at http://127.0.0.1:${port}: ECONNREFUSED (is the gateway running? set --admin-url)\n`,
    )
  })
})

describe('turnpike config sync into a DB-less gateway', () => {
  test('goes through POST /config and stays idempotent', async () => {
    const upstream = await startUpstream()
    const dir = mkdtempSync(join(tmpdir(), 'turnpike-cfgcli-off-'))
    const gw = await startTestGateway({ settings: { database: 'off' } })
    try {
      const file = join(dir, 'kong.yml')
      writeFileSync(
        file,
        readFileSync(join(ROOT, 'test/fixtures/declarative/basic.yaml'), 'utf8').replaceAll('UPSTREAM_PORT', String(upstream.port)),
      )
      const first = await cli(['sync', file, '--admin-url', gw.adminUrl])
      assert.ok(first.stdout.endsWith(summary(5, 0, 0)), first.stdout + first.stderr)
      await eventually(async () => (await call('GET', `${gw.proxyUrl}/echo/z`)).status === 200, 5000, 'the config')
      const second = await cli(['sync', file, '--admin-url', gw.adminUrl])
      assert.equal(second.stdout, summary(0, 0, 0))
    } finally {
      await gw.stop()
      await upstream.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('turnpike config db_import / db_export / init', () => {
  test('import into the configured sqlite store, export it back in Kong format', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'turnpike-cfgdb-'))
    try {
      const env = { TURNPIKE_PREFIX: dir }
      const init = await cli(['init', join(dir, 'kong.yml')], env)
      assert.equal(init.status, 0, init.stderr)
      const again = await cli(['init', join(dir, 'kong.yml')], env)
      assert.equal(again.status, 2)
      assert.match(again.stderr, /already exists/)
      const imp = await cli(['db_import', join(dir, 'kong.yml')], env)
      assert.equal(imp.status, 0, imp.stderr)
      assert.match(imp.stdout, /imported 2 entities/)
      const reimport = await cli(['db_import', join(dir, 'kong.yml')], env)
      assert.equal(reimport.status, 0, reimport.stderr)
      const exp = await cli(['db_export', '-'], env)
      assert.equal(exp.status, 0, exp.stderr)
      assert.match(exp.stdout, /^_format_version: "3\.0"\n_transform: false\nservices:\n- id: [0-9a-f-]{36}\n/)
      assert.match(exp.stdout, /name: example-route/)
      const off = await cli(['db_export', '-'], { ...env, TURNPIKE_DATABASE: 'off' })
      assert.equal(off.status, 2)
      assert.match(off.stderr, /database is off/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
