/**
 * Finding the running gateway by its prefix, as `kong health` does (Kong's kong/cmd/health.lua
 * reads the prefix, not a fixed port): `health`, `config …` and `stop` with only `-p` or `-c`
 * reach a gateway on random ports; "did you mean" for commands and subcommands; decK's flag
 * aliases (`--state`, `--skip-consumers`, `--yes`) and the terminal confirmation of deletes.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runTurnpike, runTurnpikeSync, cleanEnv } from '../../helpers/cli.js'
import { BIN, call, startTestGateway, type TestGateway } from '../../helpers/gateway.js'

describe('the running gateway, found by its prefix', () => {
  let gw: TestGateway
  let dir: string
  before(async () => {
    gw = await startTestGateway()
    dir = mkdtempSync(join(tmpdir(), 'turnpike-prefix-'))
  })
  after(async () => {
    await gw?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  test('the prefix holds the addresses the node listens on', () => {
    assert.ok(existsSync(join(gw.prefix, 'listen.json')))
  })

  test('health -p PREFIX and health -c CONF (prefix in the file) reach a gateway that is not on 8001', async () => {
    const byPrefix = await runTurnpike(['health', '-p', gw.prefix])
    assert.equal(byPrefix.status, 0, byPrefix.stderr)
    assert.match(byPrefix.stdout, new RegExp(`healthy at ${gw.prefix} .*127\\.0\\.0\\.1:${gw.adminPort}`))
    const conf = join(dir, 'kong.conf')
    writeFileSync(conf, `prefix = ${gw.prefix}\n`)
    const byConf = await runTurnpike(['health', '-c', conf])
    assert.equal(byConf.status, 0, byConf.stderr)
  })

  test('config dump/diff/sync -p PREFIX talk to that gateway; decK flags are aliases', async () => {
    const file = join(dir, 'kong.yml')
    writeFileSync(
      file,
      '_format_version: "3.0"\nservices:\n- name: s1\n  url: http://127.0.0.1:9\nconsumers:\n- username: alice\n  keyauth_credentials:\n  - key: k1\n',
    )
    const sync = await runTurnpike(['config', 'sync', '-p', gw.prefix, '--state', file])
    assert.equal(sync.status, 0, sync.stderr)
    assert.equal((await call('GET', `${gw.adminUrl}/services/s1`)).status, 200)
    assert.equal((await call('GET', `${gw.adminUrl}/consumers/alice`)).status, 200)

    const dump = await runTurnpike(['config', 'dump', '-p', gw.prefix, '--skip-consumers'])
    assert.equal(dump.status, 0, dump.stderr)
    assert.match(dump.stdout, /name: s1/)
    assert.doesNotMatch(dump.stdout, /alice|keyauth/)

    // without consumers in the file, --skip-consumers leaves the gateway's consumers alone
    const noConsumers = join(dir, 'services-only.yml')
    writeFileSync(noConsumers, '_format_version: "3.0"\nservices:\n- name: s1\n  url: http://127.0.0.1:9\n')
    const skip = await runTurnpike(['config', 'sync', noConsumers, '-p', gw.prefix, '--skip-consumers', '--yes'])
    assert.equal(skip.status, 0, skip.stderr)
    assert.match(skip.stdout, /Deleted: 0/)
    assert.equal((await call('GET', `${gw.adminUrl}/consumers/alice`)).status, 200)
  })

  test('on a terminal, sync asks before deleting; "n" changes nothing, --yes does not ask', async (t) => {
    if (spawnSync('script', ['--version']).status !== 0) return t.skip('no script(1) for a terminal')
    const file = join(dir, 'empty.yml')
    writeFileSync(file, '_format_version: "3.0"\nservices:\n- name: s1\n  url: http://127.0.0.1:9\n')
    const cmd = `${process.execPath} ${BIN} config sync ${file} -p ${gw.prefix}`
    const refused = spawnSync('script', ['-qec', cmd, '/dev/null'], { input: 'n\n', encoding: 'utf8', env: cleanEnv(), timeout: 30_000 })
    assert.match(refused.stdout, /This will delete 2 entities from http:\/\/127\.0\.0\.1:\d+\. Continue\? \(y\/N\)/)
    assert.match(refused.stdout, /nothing was changed/)
    assert.equal((await call('GET', `${gw.adminUrl}/consumers/alice`)).status, 200)
    const yes = spawnSync('script', ['-qec', `${cmd} --yes`, '/dev/null'], {
      input: '',
      encoding: 'utf8',
      env: cleanEnv(),
      timeout: 30_000,
    })
    assert.doesNotMatch(yes.stdout, /Continue\?/)
    assert.equal((await call('GET', `${gw.adminUrl}/consumers/alice`)).status, 404)
  })

  test('stop -p PREFIX stops it and the prefix no longer names listeners', async () => {
    const stopped = await runTurnpike(['stop', '-p', gw.prefix])
    assert.equal(stopped.status, 0, stopped.stderr)
    assert.equal(existsSync(join(gw.prefix, 'listen.json')), false)
    const health = runTurnpikeSync(['health', '-p', gw.prefix])
    assert.equal(health.status, 1)
    assert.match(health.stderr, /not running/)
  })
})

describe('the CLI helps with typos', () => {
  test('"did you mean" for commands and config subcommands; -c is in the help', () => {
    const cmd = runTurnpikeSync(['strat'])
    assert.equal(cmd.status, 2)
    assert.match(cmd.stderr, /unknown command 'strat' \(did you mean 'start'\?\)/)
    const sub = runTurnpikeSync(['config', 'dupm'])
    assert.equal(sub.status, 2)
    assert.match(sub.stderr, /unknown config command 'dupm' \(did you mean 'dump'\?\)/)
    const help = runTurnpikeSync(['--help'])
    assert.match(help.stdout, /health \[-c conf\] \[-p prefix\]/)
    assert.match(help.stdout, /-c, --conf FILE/)
    const configHelp = runTurnpikeSync(['config', '--help'])
    assert.match(configHelp.stdout, /-c, --conf FILE/)
    assert.match(configHelp.stdout, /--skip-consumers/)
  })
})
