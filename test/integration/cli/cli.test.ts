/**
 * The CLI as a user runs it: start in the foreground, health, stop via the pid file, check,
 * version, and one clear line for bad settings.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer, type AddressInfo } from 'node:net'
import { describe, test } from 'node:test'
import { runTurnpike, runTurnpikeSync } from '../../helpers/cli.js'
import { call, startTestGateway } from '../../helpers/gateway.js'
import { startUpstream } from '../../helpers/upstream.js'

describe('turnpike CLI', () => {
  test('version prints the version; -a adds details', () => {
    const r = runTurnpikeSync(['version'])
    assert.equal(r.status, 0)
    assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/)
    const all = runTurnpikeSync(['version', '-a'])
    assert.match(all.stdout, /kong compatibility: 3\.9/)
  })

  test('no command prints usage and exits 2; unknown option is a usage error', () => {
    const r = runTurnpikeSync([])
    assert.equal(r.status, 2)
    assert.match(r.stdout, /Usage: turnpike COMMAND/)
    const bad = runTurnpikeSync(['start', '--nope'])
    assert.equal(bad.status, 2)
    assert.match(bad.stderr, /unknown option --nope/)
  })

  test('check validates a file and names the bad setting and line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'turnpike-cli-'))
    try {
      const good = join(dir, 'good.conf')
      writeFileSync(good, '# a comment\nproxy_listen = 127.0.0.1:9000\nlog_level = debug\n')
      const ok = runTurnpikeSync(['check', good])
      assert.equal(ok.status, 0, ok.stderr)
      assert.match(ok.stdout, /is valid/)
      const bad = join(dir, 'bad.conf')
      writeFileSync(bad, 'proxy_listen = 0.0.0.0:99999\n')
      const r = runTurnpikeSync(['check', bad])
      assert.equal(r.status, 1)
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line')
      assert.match(r.stderr, /^Error: invalid proxy_listen: .*99999.*port must be between/)
      const typo = join(dir, 'typo.conf')
      writeFileSync(typo, 'databse = sqlite\n')
      const t = runTurnpikeSync(['check', typo])
      assert.equal(t.status, 1)
      assert.match(t.stderr, /databse.*did you mean "database"/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('start refuses a bad setting from the environment with one line and exit 1', () => {
    const r = runTurnpikeSync(['start'], { TURNPIKE_WORKER_PROCESSES: 'many', TURNPIKE_PREFIX: join(tmpdir(), 'turnpike-never') })
    assert.equal(r.status, 1)
    assert.match(r.stderr, /^Error: .*worker_processes/)
    const k = runTurnpikeSync(['start'], { KONG_DATABASE: 'cassandra', TURNPIKE_PREFIX: join(tmpdir(), 'turnpike-never') })
    assert.equal(k.status, 1)
    assert.match(k.stderr, /database/)
  })

  test('start names a proxy port another program holds, in one line, and exits 1', async () => {
    const holder = createServer()
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r))
    const port = (holder.address() as AddressInfo).port
    const prefix = mkdtempSync(join(tmpdir(), 'turnpike-cli-'))
    try {
      const r = await runTurnpike(['start'], {
        TURNPIKE_PREFIX: prefix,
        TURNPIKE_PROXY_LISTEN: `127.0.0.1:${port}`,
        TURNPIKE_ADMIN_LISTEN: '127.0.0.1:0',
        TURNPIKE_STATUS_LISTEN: 'off',
      })
      assert.equal(r.status, 1)
      assert.equal(
        r.stderr,
        `Error: could not listen on proxy_listen 127.0.0.1:${port}: address already in use (is another gateway running?)\n`,
      )
    } finally {
      holder.close()
      rmSync(prefix, { recursive: true, force: true })
    }
  })

  test('start, health, a second start refused, graceful stop finishing an in-flight request', async () => {
    const slow = await startUpstream((_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/plain' })
        res.end('slow but complete')
      }, 700)
    })
    const gw = await startTestGateway({ workers: 2 })
    try {
      const env = { TURNPIKE_PREFIX: gw.prefix, TURNPIKE_ADMIN_LISTEN: `127.0.0.1:${gw.adminPort}` }
      const health = await runTurnpike(['health'], env)
      assert.equal(health.status, 0, health.stderr)
      assert.match(health.stdout, /healthy/)

      const again = await runTurnpike(['start'], { ...env, TURNPIKE_PROXY_LISTEN: '127.0.0.1:0', TURNPIKE_STATUS_LISTEN: 'off' })
      assert.equal(again.status, 1)
      assert.match(again.stderr, /already running/)

      assert.equal((await call('POST', `${gw.adminUrl}/services`, { name: 'slow', url: slow.url })).status, 201)
      assert.equal((await call('POST', `${gw.adminUrl}/services/slow/routes`, { paths: ['/slow'] })).status, 201)
      await new Promise((r) => setTimeout(r, 300))
      const inflight = call('GET', `${gw.proxyUrl}/slow`)
      await new Promise((r) => setTimeout(r, 200))
      const stopped = await runTurnpike(['stop'], env)
      assert.equal(stopped.status, 0, stopped.stderr)
      const res = await inflight
      assert.equal(res.status, 200)
      assert.equal(res.text, 'slow but complete')
      const after = runTurnpikeSync(['health'], env)
      assert.equal(after.status, 1)
      assert.match(after.stderr, /not running/)
    } finally {
      await gw.stop()
      await slow.close()
    }
  })

  test('migrations on sqlite: up to date by itself; reset needs --yes and deletes the file; DB-less has none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'turnpike-cli-'))
    try {
      const env = { TURNPIKE_PREFIX: dir }
      const list = runTurnpikeSync(['migrations', 'list'], env)
      assert.equal(list.status, 0, list.stderr)
      assert.match(list.stdout, /^Database is up-to-date \(database = sqlite at .*turnpike\.db/)
      assert.ok(existsSync(join(dir, 'turnpike.db')))
      assert.equal(runTurnpikeSync(['migrations', 'bootstrap'], env).status, 0)
      assert.equal(runTurnpikeSync(['migrations', 'finish'], env).stdout, 'No pending migrations to finish\n')
      const refused = runTurnpikeSync(['migrations', 'reset'], env)
      assert.equal(refused.status, 1)
      assert.match(refused.stderr, /--yes/)
      assert.ok(existsSync(join(dir, 'turnpike.db')))
      const reset = runTurnpikeSync(['migrations', 'reset', '-y'], env)
      assert.equal(reset.status, 0, reset.stderr)
      assert.equal(existsSync(join(dir, 'turnpike.db')), false)
      const off = runTurnpikeSync(['migrations', 'list'], { ...env, TURNPIKE_DATABASE: 'off' })
      assert.equal(off.status, 1)
      assert.match(off.stderr, /database is off/)
      const unknown = runTurnpikeSync(['migrations', 'sideways'], env)
      assert.equal(unknown.status, 2)
      assert.match(unknown.stderr, /unknown migrations command 'sideways'/)
      assert.match(runTurnpikeSync(['migrations', '--help']).stdout, /bootstrap +Bootstrap the database/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
