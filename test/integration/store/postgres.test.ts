/**
 * `database = postgres` end to end on a real PostgreSQL: `turnpike start` refuses a database that
 * is not bootstrapped (nothing listens), `turnpike migrations list / bootstrap / up / finish /
 * reset` answer as Kong's do, a gateway serves a service and route created through its Admin API
 * and finds them again after a restart, `config db_import / db_export` round-trip, and during a
 * database outage the proxy (key-auth included) keeps serving while the Admin API answers 503 and
 * `/status/ready` says not ready, until the database returns.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runTurnpike } from '../../helpers/cli.js'
import { call, startTestGateway } from '../../helpers/gateway.js'
import { freePort } from '../../helpers/ports.js'
import { hasPostgres, startPostgres, type TestPostgres, settingsEnv } from '../../helpers/postgres.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'

const skip = hasPostgres() ? false : 'PostgreSQL is not installed (.ci/run installs it)'

/** The settings as TURNPIKE_* variables for the CLI. */
const env = settingsEnv

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy()
      resolve(true)
    })
    s.on('error', () => resolve(false))
  })
}

describe('database = postgres', { skip }, () => {
  let pg: TestPostgres
  let upstream: TestUpstream
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-pg-it-'))

  before(async () => {
    pg = await startPostgres()
    upstream = await startUpstream()
  })
  after(async () => {
    await upstream?.close()
    await pg?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  test('start refuses a database that is not bootstrapped, with Kong message naming turnpike; nothing listens', async () => {
    const database = await pg.createDatabase()
    const [proxy, admin] = [await freePort(), await freePort()]
    const run = await runTurnpike(
      ['start'],
      env({
        ...pg.settings(database),
        prefix: join(dir, 'refused'),
        proxy_listen: `127.0.0.1:${proxy}`,
        admin_listen: `127.0.0.1:${admin}`,
        status_listen: 'off',
        worker_processes: '1',
      }),
    )
    assert.notEqual(run.status, 0)
    assert.match(run.stderr, /Database needs bootstrapping or is older than Kong 1\.0\./)
    assert.match(run.stderr, /To start a new installation from scratch, run 'turnpike migrations bootstrap'\./)
    assert.equal(await listening(proxy), false)
    assert.equal(await listening(admin), false)
    // list says the same, with Kong's exit code 3
    const list = await runTurnpike(['migrations', 'list'], env(pg.settings(database)))
    assert.equal(list.status, 3, list.stderr)
    assert.match(list.stdout, /Database needs bootstrapping/)
  })

  test('start names an unreachable database and exits 1', async () => {
    const port = await freePort()
    const run = await runTurnpike(
      ['start'],
      env({
        database: 'postgres',
        pg_port: String(port),
        pg_timeout: '1000',
        prefix: join(dir, 'down'),
        proxy_listen: 'off',
        admin_listen: 'off',
        status_listen: 'off',
      }),
    )
    assert.equal(run.status, 1)
    assert.match(
      run.stderr,
      new RegExp(`^Error: could not open the postgres store at postgres://kong@127\\.0\\.0\\.1:${port}/kong: .*ECONNREFUSED`),
    )
  })

  test('migrations bootstrap, list, up, finish and reset answer as Kong', async () => {
    const database = await pg.createDatabase()
    const e = env(pg.settings(database))
    const boot = await runTurnpike(['migrations', 'bootstrap'], e)
    assert.equal(boot.status, 0, boot.stderr)
    assert.equal(
      boot.stdout,
      [
        'Bootstrapping database...',
        `migrating core on database '${database}'...`,
        'core migrated up to: 000_base (executed)',
        'core migrated up to: 001_ratelimiting_metrics (executed)',
        '2 migrations processed',
        '2 executed',
        'Database is up-to-date',
        '',
      ].join('\n'),
    )
    const again = await runTurnpike(['migrations', 'bootstrap'], e)
    assert.equal(again.stdout, 'Database already bootstrapped\n')
    const list = await runTurnpike(['migrations', 'list'], e)
    assert.equal(list.status, 0, list.stderr)
    assert.equal(list.stdout, 'Executed migrations:\ncore: 000_base, 001_ratelimiting_metrics\n')
    const up = await runTurnpike(['migrations', 'up'], e)
    assert.equal(up.status, 0, up.stderr)
    assert.equal(up.stdout, 'Database is already up-to-date\n')
    const finish = await runTurnpike(['migrations', 'finish'], e)
    assert.equal(finish.stdout, 'No pending migrations to finish\n')
    // the layout is there: a table per entity, the version table
    const tables = (await pg.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", database)).map((r) => r['tablename'])
    for (const t of ['services', 'routes', 'consumers', 'plugins', 'tags', 'schema_meta', 'schema_migrations', 'ratelimiting_metrics'])
      assert.ok(tables.includes(t), t)

    // a database of the release before 001 (no ratelimiting_metrics): list exits 5, start refuses
    await pg.query("DELETE FROM schema_migrations WHERE name = '001_ratelimiting_metrics'", database)
    await pg.query('DROP TABLE ratelimiting_metrics', database)
    const stale = await runTurnpike(['migrations', 'list'], e)
    assert.equal(stale.status, 5, stale.stderr)
    assert.match(stale.stdout, /New migrations available:\ncore: 001_ratelimiting_metrics\n\nRun 'turnpike migrations up' to proceed/)
    const refused = await runTurnpike(['start'], {
      ...e,
      ...env({ prefix: join(dir, 'stale'), proxy_listen: 'off', admin_listen: 'off', status_listen: 'off' }),
    })
    assert.notEqual(refused.status, 0)
    assert.match(refused.stderr, /New migrations available; run 'turnpike migrations up' to proceed/)
    const upNow = await runTurnpike(['migrations', 'up'], e)
    assert.equal(upNow.status, 0, upNow.stderr)
    assert.match(upNow.stdout, /core migrated up to: 001_ratelimiting_metrics \(executed\)/)
    assert.deepEqual(await pg.query("SELECT to_regclass('ratelimiting_metrics') IS NOT NULL AS present", database), [{ present: true }])

    const noYes = await runTurnpike(['migrations', 'reset'], e)
    assert.equal(noYes.status, 1)
    assert.match(noYes.stderr, /--yes/)
    const reset = await runTurnpike(['migrations', 'reset', '--yes'], e)
    assert.equal(reset.status, 0, reset.stderr)
    assert.equal(reset.stdout, 'Resetting database...\nDatabase successfully reset\n')
    assert.deepEqual(await pg.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", database), [])
    const twice = await runTurnpike(['migrations', 'reset', '--yes'], e)
    assert.equal(twice.status, 1)
    assert.equal(twice.stdout, 'Database not bootstrapped, nothing to reset\n')
  })

  test("Kong's migrations flags: bootstrap --force resets first, -q is silent, --db-timeout is checked", async () => {
    const database = await pg.createDatabase()
    const e = env(pg.settings(database))
    assert.equal((await runTurnpike(['migrations', 'bootstrap', '-q'], e)).stdout, '')
    await pg.query(`INSERT INTO services (id, data) VALUES ('x', '{"id":"x"}')`, database)
    const forced = await runTurnpike(['migrations', 'bootstrap', '--force', '--db-timeout', '30', '--lock-timeout', '60'], e)
    assert.equal(forced.status, 0, forced.stderr)
    assert.match(forced.stdout, /^Resetting database\.\.\.\nDatabase successfully reset\nBootstrapping database\.\.\./)
    assert.deepEqual(await pg.query('SELECT count(*)::int AS n FROM services', database), [{ n: 0 }])
    const upForced = await runTurnpike(['migrations', 'up', '-f'], e)
    assert.equal(upForced.status, 0, upForced.stderr)
    assert.match(upForced.stdout, /core migrated up to: 000_base \(executed\)/)
    const bad = await runTurnpike(['migrations', 'list', '--db-timeout', 'soon'], e)
    assert.equal(bad.status, 2)
    assert.match(bad.stderr, /--db-timeout must be a number of seconds/)
    const quiet = await runTurnpike(['migrations', 'list', '-q'], e)
    assert.deepEqual([quiet.status, quiet.stdout], [0, ''])
  })

  test('a gateway on postgres serves what its Admin API created, and finds it again after a restart', async () => {
    const database = await pg.createDatabase()
    const boot = await runTurnpike(['migrations', 'bootstrap'], env(pg.settings(database)))
    assert.equal(boot.status, 0, boot.stderr)
    const prefix = join(dir, 'gw')
    let gw = await startTestGateway({ prefix, settings: { ...pg.settings(database), pg_password: 'not-needed-with-trust' } })
    try {
      const root = await call('GET', `${gw.adminUrl}/`)
      assert.equal((root.body as { configuration: Record<string, unknown> }).configuration['pg_password'], '******')
      assert.equal((root.body as { configuration: Record<string, unknown> }).configuration['database'], 'postgres')
      const status = await call('GET', `${gw.adminUrl}/status`)
      assert.deepEqual((status.body as { database: unknown }).database, { reachable: true })
      const svc = await call('POST', `${gw.adminUrl}/services`, { name: 'echo', url: upstream.url })
      assert.equal(svc.status, 201, JSON.stringify(svc.body))
      const route = await call('POST', `${gw.adminUrl}/services/echo/routes`, { name: 'r', paths: ['/pg'] })
      assert.equal(route.status, 201, JSON.stringify(route.body))
      const dup = await call('POST', `${gw.adminUrl}/services`, { name: 'echo', url: upstream.url })
      assert.equal(dup.status, 409)
      await eventuallyProxied(gw.proxyUrl)
    } finally {
      await gw.stop()
    }
    const rows = await pg.query("SELECT data->>'name' AS name FROM services", database)
    assert.deepEqual(rows, [{ name: 'echo' }])
    gw = await startTestGateway({ prefix, settings: pg.settings(database) })
    try {
      const routes = await call('GET', `${gw.adminUrl}/services/echo/routes`)
      assert.deepEqual(
        (routes.body as { data: { name: string }[] }).data.map((r) => r.name),
        ['r'],
      )
      await eventuallyProxied(gw.proxyUrl)
    } finally {
      await gw.stop()
    }
  })

  test('two nodes on one database: a write through one is proxied by the other within a second, an import by both', async () => {
    const database = await pg.createDatabase()
    assert.equal((await runTurnpike(['migrations', 'bootstrap'], env(pg.settings(database)))).status, 0)
    const a = await startTestGateway({ settings: pg.settings(database) })
    const b = await startTestGateway({ settings: pg.settings(database) })
    try {
      const latencies: number[] = []
      for (let i = 0; i < 5; i++) {
        const svc = await call('POST', `${a.adminUrl}/services`, { name: `s${i}`, url: upstream.url })
        assert.equal(svc.status, 201, JSON.stringify(svc.body))
        const started = performance.now()
        const route = await call('POST', `${a.adminUrl}/services/s${i}/routes`, { paths: [`/n${i}`] })
        assert.equal(route.status, 201, JSON.stringify(route.body))
        await eventuallyStatus(`${b.proxyUrl}/n${i}/x`, 200, 1000)
        latencies.push(performance.now() - started)
      }
      // a delete reaches the other node too
      assert.equal((await call('DELETE', `${a.adminUrl}/services/s0/routes/${await routeId(a.adminUrl, 's0')}`)).status, 204)
      await eventuallyStatus(`${b.proxyUrl}/n0/x`, 404, 1000)
      // so does what the CLI imports into the database
      const file = join(dir, 'live.yml')
      writeFileSync(file, `_format_version: "3.0"\nservices:\n- name: live\n  url: ${upstream.url}\n  routes:\n  - paths: [/live]\n`)
      const imp = await runTurnpike(['config', 'db_import', file], env({ ...pg.settings(database), prefix: join(dir, 'live') }))
      assert.equal(imp.status, 0, imp.stderr)
      await eventuallyStatus(`${a.proxyUrl}/live/x`, 200, 1000)
      await eventuallyStatus(`${b.proxyUrl}/live/x`, 200, 1000)
      process.stdout.write(`# write on node A -> proxied by node B: ${latencies.map((ms) => ms.toFixed(0)).join(', ')} ms\n`)
    } finally {
      await a.stop()
      await b.stop()
    }
  })

  test('database outage: nodes keep proxying, log the lost change channel once, and catch up by themselves', async () => {
    const database = await pg.createDatabase()
    assert.equal((await runTurnpike(['migrations', 'bootstrap'], env(pg.settings(database)))).status, 0)
    const a = await startTestGateway({ settings: { ...pg.settings(database), pg_timeout: '1000' } })
    const b = await startTestGateway({ settings: { ...pg.settings(database), pg_timeout: '1000' } })
    try {
      assert.equal((await call('POST', `${a.adminUrl}/services`, { name: 'before', url: upstream.url })).status, 201)
      assert.equal((await call('POST', `${a.adminUrl}/services/before/routes`, { paths: ['/before'] })).status, 201)
      await eventuallyStatus(`${b.proxyUrl}/before/x`, 200, 1000)
      await pg.interrupt()
      try {
        await b.waitForLog(/lost the database change channel/, 5000)
        // the proxy never needs the database
        for (const gw of [a, b]) assert.equal((await call('GET', `${gw.proxyUrl}/before/x`)).status, 200)
      } finally {
        await pg.resume()
      }
      await b.waitForLog(/listening to the database's changes again/, 10_000)
      const created = await call('POST', `${a.adminUrl}/services`, { name: 'after', url: upstream.url })
      assert.equal(created.status, 201, JSON.stringify(created.body))
      assert.equal((await call('POST', `${a.adminUrl}/services/after/routes`, { paths: ['/after'] })).status, 201)
      await eventuallyStatus(`${b.proxyUrl}/after/x`, 200, 1000)
      assert.equal(b.errorLog().match(/lost the database change channel/g)?.length, 1)
      assert.equal(b.errorLog().match(/listening to the database's changes again/g)?.length, 1)
    } finally {
      await a.stop()
      await b.stop()
    }
  })

  test('database outage on one node: Admin 503 with the message, /status and /status/ready say so, key-auth still authenticates, writes work again after', async () => {
    const database = await pg.createDatabase()
    assert.equal((await runTurnpike(['migrations', 'bootstrap'], env(pg.settings(database)))).status, 0)
    const gw = await startTestGateway({ settings: { ...pg.settings(database), pg_timeout: '1000' } })
    try {
      assert.equal((await call('POST', `${gw.adminUrl}/services`, { name: 'locked', url: upstream.url })).status, 201)
      assert.equal((await call('POST', `${gw.adminUrl}/services/locked/routes`, { paths: ['/locked'] })).status, 201)
      assert.equal((await call('POST', `${gw.adminUrl}/services/locked/plugins`, { name: 'key-auth' })).status, 201)
      assert.equal((await call('POST', `${gw.adminUrl}/consumers`, { username: 'ann' })).status, 201)
      assert.equal((await call('POST', `${gw.adminUrl}/consumers/ann/key-auth`, { key: 'ann-key' })).status, 201)
      await eventuallyStatus(`${gw.proxyUrl}/locked/x?apikey=ann-key`, 200, 2000)
      assert.deepEqual((await call('GET', `${gw.statusUrl}/status/ready`)).body, { message: 'ready' })

      await pg.interrupt()
      try {
        await gw.waitForLog(/lost the database change channel/, 5000)
        const refused = await call('POST', `${gw.adminUrl}/services`, { name: 'during', url: upstream.url })
        assert.equal(refused.status, 503, JSON.stringify(refused.body))
        const body = refused.body as { code: number; name: string; message: string }
        assert.deepEqual([body.code, body.name], [8, 'database error'])
        assert.match(
          body.message,
          new RegExp(`^the database \\(postgres at postgres://kong@127\\.0\\.0\\.1:${pg.port}/${database}\\) cannot be reached`),
        )
        assert.match(body.message, /the proxy keeps serving the last configuration it loaded$/)
        // a read that needs the store answers the same way
        assert.equal((await call('GET', `${gw.adminUrl}/services`)).status, 503)
        assert.equal((await call('POST', `${gw.adminUrl}/services`, { name: 'again', url: upstream.url })).status, 503)
        const status = await call('GET', `${gw.statusUrl}/status`)
        assert.deepEqual((status.body as { database: unknown }).database, { reachable: false })
        const ready = await call('GET', `${gw.statusUrl}/status/ready`)
        assert.deepEqual([ready.status, ready.body], [503, { message: 'failed to connect to database' }])
        // the proxy and its credentials never need the database
        assert.equal((await call('GET', `${gw.proxyUrl}/locked/x?apikey=ann-key`)).status, 200)
        assert.equal((await call('GET', `${gw.proxyUrl}/locked/x`)).status, 401)
        assert.equal((await call('GET', `${gw.proxyUrl}/locked/x?apikey=wrong`)).status, 401)
      } finally {
        await pg.resume()
      }
      const started = Date.now()
      let created = await call('POST', `${gw.adminUrl}/services`, { name: 'after', url: upstream.url })
      while (created.status === 503 && Date.now() - started < 8000) {
        await new Promise((r) => setTimeout(r, 100))
        created = await call('POST', `${gw.adminUrl}/services`, { name: 'after', url: upstream.url })
      }
      assert.equal(created.status, 201, JSON.stringify(created.body))
      process.stdout.write(`# a write succeeded again ${Date.now() - started} ms after the database returned\n`)
      await gw.waitForLog(/listening to the database's changes again/, 5000)
      assert.deepEqual((await call('GET', `${gw.statusUrl}/status/ready`)).body, { message: 'ready' })
      // the outage was logged once each way, and the refused requests did not log a failure each
      assert.equal(gw.errorLog().match(/lost the database change channel/g)?.length, 1)
      assert.equal(gw.errorLog().match(/listening to the database's changes again/g)?.length, 1)
      assert.doesNotMatch(gw.errorLog(), /admin API request failed/)
    } finally {
      await gw.stop()
    }
  })

  test('config db_import then db_export round-trips through postgres', async () => {
    const database = await pg.createDatabase()
    const e = env({ ...pg.settings(database), prefix: join(dir, 'io') })
    const before = await runTurnpike(['config', 'db_import', join(dir, 'missing.yml')], e)
    assert.equal(before.status === 0, false)
    assert.equal((await runTurnpike(['migrations', 'bootstrap'], e)).status, 0)
    const file = join(dir, 'in.yml')
    writeFileSync(
      file,
      [
        '_format_version: "3.0"',
        'services:',
        '- name: imported',
        '  url: http://example.com:8080/base',
        '  tags: [t1]',
        '  routes:',
        '  - name: imported-route',
        '    paths: [/imp]',
        'consumers:',
        '- username: alice',
        '',
      ].join('\n'),
    )
    const imp = await runTurnpike(['config', 'db_import', file], e)
    assert.equal(imp.status, 0, imp.stderr)
    assert.match(imp.stdout, /imported 3 entities/)
    const out = join(dir, 'out.yml')
    const exp = await runTurnpike(['config', 'db_export', out], e)
    assert.equal(exp.status, 0, exp.stderr)
    const text = readFileSync(out, 'utf8')
    for (const needle of ['name: imported', 'name: imported-route', '/imp', 'username: alice', 't1'])
      assert.ok(text.includes(needle), needle)
    // importing the export again changes nothing
    const again = await runTurnpike(['config', 'db_import', out], e)
    assert.equal(again.status, 0, again.stderr)
    assert.deepEqual(await pg.query('SELECT count(*)::int AS n FROM services', database), [{ n: 1 }])
  })
})

/** The route answers through the proxy (the workers got the configuration). */
async function eventuallyProxied(proxyUrl: string): Promise<void> {
  const deadline = Date.now() + 5000
  for (;;) {
    const res = await call('GET', `${proxyUrl}/pg/x`)
    if (res.status === 200) {
      assert.equal((res.body as { url: string }).url, '/x')
      return
    }
    if (Date.now() > deadline) throw new Error(`proxy answered ${res.status}: ${JSON.stringify(res.body)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Waits until a proxied GET answers `status`, within `withinMs`. */
async function eventuallyStatus(url: string, status: number, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs
  for (;;) {
    const res = await call('GET', url)
    if (res.status === status) return
    if (Date.now() > deadline) throw new Error(`${url} answered ${res.status} after ${withinMs} ms, expected ${status}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

async function routeId(adminUrl: string, service: string): Promise<string> {
  const res = await call('GET', `${adminUrl}/services/${service}/routes`)
  return (res.body as { data: { id: string }[] }).data[0]?.id ?? ''
}
