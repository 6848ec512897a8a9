/**
 * `turnpike config sync/diff/dump` with plugins at every scope, consumers with nested
 * credentials and an upstream with nested targets, against real gateways (sqlite and DB-less):
 * plugin config changes are updates (same ids), credentials go through the consumer's nested
 * Admin API paths, basic-auth passwords are hashed exactly once, dump → sync → dump round trips,
 * and the load-balanced upstream proxies to both local servers.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, call, eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { type CliRun, runTurnpike } from '../../helpers/cli.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'

/** `turnpike config ARGS…` */
const cli = (args: readonly string[]): Promise<CliRun> => runTurnpike(['config', ...args])

const summary = (created: number, updated: number, deleted: number): string =>
  `Summary:\n  Created: ${created}\n  Updated: ${updated}\n  Deleted: ${deleted}\n`
const basic = (user: string, password: string): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
})

async function pluginIds(adminUrl: string): Promise<string[]> {
  const res = await call('GET', `${adminUrl}/plugins`)
  return (res.body.data as { id: string }[]).map((p) => p.id).sort()
}

describe('sync of plugins, credentials and upstreams', () => {
  let a: TestUpstream
  let b: TestUpstream
  let gw: TestGateway
  let off: TestGateway
  let empty: TestGateway
  let dir: string
  let file: string

  before(async () => {
    ;[a, b] = await Promise.all([startUpstream(), startUpstream()])
    dir = mkdtempSync(join(tmpdir(), 'turnpike-entsync-'))
    file = join(dir, 'kong.yml')
    writeFileSync(
      file,
      readFileSync(join(ROOT, 'test/fixtures/declarative/entities.yaml'), 'utf8')
        .replaceAll('PORT_A', String(a.port))
        .replaceAll('PORT_B', String(b.port)),
    )
    // assigned as each starts, so that `after` stops whichever started if another fails
    await Promise.all([
      startTestGateway().then((g) => (gw = g)),
      startTestGateway({ settings: { database: 'off' } }).then((g) => (off = g)),
      startTestGateway().then((g) => (empty = g)),
    ])
  })
  after(async () => {
    await Promise.all([gw?.stop(), off?.stop(), empty?.stop()])
    await Promise.all([a?.close(), b?.close()])
    rmSync(dir, { recursive: true, force: true })
  })

  test('sync creates every entity through paths that exist; auth, ACL-free routes and load balancing work; a second sync changes nothing', async () => {
    const first = await cli(['sync', file, '--admin-url', gw.adminUrl])
    assert.equal(first.status, 0, first.stderr)
    // 2 services, 4 routes, 1 upstream, 2 targets, 1 consumer, 6 plugins, 4 credentials
    assert.ok(first.stdout.endsWith(summary(20, 0, 0)), first.stdout)
    assert.match(first.stdout, /^creating plugin rate-limiting for service api$/m)
    assert.match(first.stdout, /^creating plugin rate-limiting for consumer alice$/m)
    assert.match(first.stdout, /^creating plugin correlation-id \(global\)$/m)
    assert.match(first.stdout, /^creating plugin cors for route open$/m)
    assert.match(first.stdout, /^creating basicauth_credential alice$/m)
    assert.match(first.stdout, /^creating acl admins for consumer alice$/m)
    assert.doesNotMatch(first.stdout, /alice-key|s3cret/, 'secrets are not printed')

    // the password is stored hashed once: the clear-text password authenticates
    const creds = await call('GET', `${gw.adminUrl}/consumers/alice/basic-auth`)
    assert.equal(creds.body.data.length, 1)
    assert.match(creds.body.data[0].password, /^[0-9a-f]{40}$/)
    await eventually(
      async () => (await call('GET', `${gw.proxyUrl}/basic/x`, undefined, basic('alice', 's3cret'))).status === 200,
      5000,
      'basic-auth with the clear password',
    )
    assert.equal((await call('GET', `${gw.proxyUrl}/basic/x`, undefined, basic('alice', 'wrong'))).status, 401)
    assert.equal((await call('GET', `${gw.proxyUrl}/secure/x`, undefined, { apikey: 'alice-key' })).status, 200)
    assert.equal((await call('GET', `${gw.proxyUrl}/secure/x`)).status, 401)
    assert.equal((await call('GET', `${gw.adminUrl}/consumers/alice/acls`)).body.data[0].group, 'admins')
    assert.equal((await call('GET', `${gw.adminUrl}/consumers/alice/jwt`)).body.data[0].key, 'alice-iss')

    // the upstream's two targets both get traffic
    const before = { a: a.received.length, b: b.received.length }
    for (let i = 0; i < 12; i++) assert.equal((await call('GET', `${gw.proxyUrl}/lb/x`)).status, 200)
    assert.ok(
      a.received.length - before.a >= 3 && b.received.length - before.b >= 3,
      `both targets used: ${a.received.length - before.a} / ${b.received.length - before.b}`,
    )

    const second = await cli(['sync', file, '--admin-url', gw.adminUrl])
    assert.equal(second.stdout, summary(0, 0, 0))
    const diff = await cli(['diff', file, '--admin-url', gw.adminUrl])
    assert.equal(diff.stdout, summary(0, 0, 0))
  })

  test('a changed plugin config or password is an update (same ids), not delete + create', async () => {
    const ids = await pluginIds(gw.adminUrl)
    const changed = join(dir, 'changed.yml')
    writeFileSync(
      changed,
      readFileSync(file, 'utf8')
        .replace('minute: 1000', 'minute: 900')
        .replace('minute: 500', 'minute: 400')
        .replace('header_name: X-Trace', 'header_name: X-Trace-2')
        .replace('origins: ["https://example.test"]', 'origins: ["https://other.test"]')
        .replace('password: s3cret', 'password: n3w-secret'),
    )
    const res = await cli(['sync', changed, '--admin-url', gw.adminUrl])
    assert.equal(res.status, 0, res.stderr)
    assert.ok(res.stdout.endsWith(summary(0, 5, 0)), res.stdout)
    assert.match(res.stdout, /^updating plugin rate-limiting for service api\n  config\.minute: 1000 → 900\n/m)
    assert.match(
      res.stdout,
      /^updating plugin cors for route open\n  config\.origins: \["https:\/\/example\.test"\] → \["https:\/\/other\.test"\]\n/m,
    )
    assert.match(res.stdout, /^updating plugin correlation-id \(global\)\n/m)
    assert.match(res.stdout, /^updating basicauth_credential alice\n  password: "\(hidden\)" → "\(changed\)"\n/m)
    assert.deepEqual(await pluginIds(gw.adminUrl), ids)
    await eventually(
      async () => (await call('GET', `${gw.proxyUrl}/basic/x`, undefined, basic('alice', 'n3w-secret'))).status === 200,
      5000,
      'the new password',
    )
    const again = await cli(['sync', changed, '--admin-url', gw.adminUrl])
    assert.equal(again.stdout, summary(0, 0, 0))
    // back to the original file
    const back = await cli(['sync', file, '--admin-url', gw.adminUrl])
    assert.ok(back.stdout.endsWith(summary(0, 5, 0)), back.stdout)
    assert.deepEqual(await pluginIds(gw.adminUrl), ids)
  })

  test('dump nests credentials under consumers (hashed password under _transform: false); syncing it back changes nothing', async () => {
    const d = await cli(['dump', '--admin-url', gw.adminUrl])
    assert.equal(d.status, 0, d.stderr)
    const text = d.stdout
    assert.match(text, /^_format_version: "3\.0"\n_transform: false\n/)
    assert.match(
      text,
      /\nconsumers:\n- acls:\n  - group: admins\n  basicauth_credentials:\n  - password: [0-9a-f]{40}\n    username: alice\n  id: [0-9a-f-]{36}\n  jwt_secrets:\n/,
    )
    assert.match(text, /\n  keyauth_credentials:\n  - key: alice-key\n/)
    assert.match(text, /\nupstreams:\n[\s\S]*  targets:\n  - target: 127\.0\.0\.1:\d+\n    weight: 100\n  - target: 127\.0\.0\.1:\d+\n/)
    writeFileSync(join(dir, 'dump.yml'), text)
    const s = await cli(['sync', join(dir, 'dump.yml'), '--admin-url', gw.adminUrl])
    assert.equal(s.stdout, summary(0, 0, 0))
  })

  test('dump → sync into an empty DB-less node → dump is identical, and the password still works there', async () => {
    const dumpFile = join(dir, 'dump.yml')
    const s = await cli(['sync', dumpFile, '--admin-url', off.adminUrl])
    assert.equal(s.status, 0, s.stderr)
    assert.ok(s.stdout.endsWith(summary(20, 0, 0)), s.stdout)
    const d2 = await cli(['dump', '--admin-url', off.adminUrl])
    assert.equal(d2.stdout, readFileSync(dumpFile, 'utf8'))
    await eventually(
      async () => (await call('GET', `${off.proxyUrl}/basic/x`, undefined, basic('alice', 's3cret'))).status === 200,
      5000,
      'basic-auth on the DB-less node',
    )
    const again = await cli(['sync', dumpFile, '--admin-url', off.adminUrl])
    assert.equal(again.stdout, summary(0, 0, 0))
  })

  test('a dump with hashed passwords is refused by a database node (it would hash them again); without them it round trips', async () => {
    const text = readFileSync(join(dir, 'dump.yml'), 'utf8')
    const refused = await cli(['sync', join(dir, 'dump.yml'), '--admin-url', empty.adminUrl])
    assert.equal(refused.status, 1)
    assert.match(
      refused.stderr,
      /^Error: nothing was changed: 1 entity holds an already hashed value \(the file says '_transform: false'\), which the Admin API would hash again:\n  creating basicauth_credential alice\n/,
    )
    assert.equal((await call('GET', `${empty.adminUrl}/consumers`)).body.data.length, 0)

    const noBasic = text
      .replace('_transform: false\n', '')
      .replace(/  basicauth_credentials:\n  - password: [0-9a-f]{40}\n    username: alice\n  id: [0-9a-f-]{36}\n/, '')
    assert.notEqual(noBasic, text)
    writeFileSync(join(dir, 'nobasic.yml'), noBasic)
    const s = await cli(['sync', join(dir, 'nobasic.yml'), '--admin-url', empty.adminUrl])
    assert.equal(s.status, 0, s.stderr)
    assert.ok(s.stdout.endsWith(summary(19, 0, 0)), s.stdout)
    const d = await cli(['dump', '--admin-url', empty.adminUrl])
    assert.equal(d.stdout, noBasic)
    assert.equal((await cli(['sync', join(dir, 'nobasic.yml'), '--admin-url', empty.adminUrl])).stdout, summary(0, 0, 0))
  })

  test('--select-tag: only tagged plugins are created, updated or deleted', async () => {
    // tag the consumer-scoped plugin and the global one on the database node
    for (const p of (await call('GET', `${gw.adminUrl}/plugins`)).body.data as { id: string; name: string; consumer: unknown }[]) {
      if (p.name === 'correlation-id' || p.consumer !== null) {
        const r = await call('PATCH', `${gw.adminUrl}/plugins/${p.id}`, { tags: ['team-p'] })
        assert.equal(r.status, 200)
      }
    }
    const scoped = join(dir, 'scoped.yml')
    writeFileSync(
      scoped,
      [
        '_format_version: "3.0"',
        '_info:',
        '  select_tags: [team-p]',
        'plugins:',
        '- name: correlation-id',
        '  config:',
        '    header_name: X-Scoped',
        '- name: request-size-limiting',
        '  service: api',
        '',
      ].join('\n'),
    )
    const res = await cli(['sync', scoped, '--admin-url', gw.adminUrl])
    assert.equal(res.status, 0, res.stderr)
    assert.equal(
      res.stdout,
      [
        'updating plugin correlation-id (global)',
        '  config.header_name: "X-Trace" → "X-Scoped"',
        'creating plugin request-size-limiting for service api',
        'deleting plugin rate-limiting for consumer alice',
        summary(1, 1, 1),
      ].join('\n'),
    )
    const names = ((await call('GET', `${gw.adminUrl}/plugins`)).body.data as { name: string }[]).map((p) => p.name).sort()
    assert.deepEqual(names, ['basic-auth', 'correlation-id', 'cors', 'key-auth', 'rate-limiting', 'request-size-limiting'])
    assert.equal((await cli(['sync', scoped, '--admin-url', gw.adminUrl])).stdout, summary(0, 0, 0))
  })
})

describe('upstreams with nested targets in a DB-less kong.yml', () => {
  test('loads at start and balances across both local servers', async () => {
    const [a, b] = await Promise.all([startUpstream(), startUpstream()])
    const dir = mkdtempSync(join(tmpdir(), 'turnpike-lb-'))
    const file = join(dir, 'kong.yml')
    writeFileSync(
      file,
      readFileSync(join(ROOT, 'test/fixtures/declarative/entities.yaml'), 'utf8')
        .replaceAll('PORT_A', String(a.port))
        .replaceAll('PORT_B', String(b.port)),
    )
    const gw = await startTestGateway({ settings: { database: 'off', declarative_config: file } })
    try {
      for (let i = 0; i < 12; i++) {
        const res = await call('GET', `${gw.proxyUrl}/lb/x`)
        assert.equal(res.status, 200)
        assert.equal(res.body.url, '/x')
      }
      assert.ok(a.received.length >= 3 && b.received.length >= 3, `both targets used: ${a.received.length} / ${b.received.length}`)
      const targets = await call('GET', `${gw.adminUrl}/upstreams/lb-up/targets`)
      assert.deepEqual(
        (targets.body.data as { target: string }[]).map((t) => t.target).sort(),
        [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`].sort(),
      )
      // credentials from the file: the clear-text password was hashed on load (_transform)
      const creds = await call('GET', `${gw.adminUrl}/basic-auths`)
      assert.match(creds.body.data[0].password, /^[0-9a-f]{40}$/)
      assert.equal((await call('GET', `${gw.proxyUrl}/basic/x`, undefined, basic('alice', 's3cret'))).status, 200)
      assert.equal((await call('GET', `${gw.proxyUrl}/secure/x`, undefined, { apikey: 'alice-key' })).status, 200)
    } finally {
      await gw.stop()
      await Promise.all([a.close(), b.close()])
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
