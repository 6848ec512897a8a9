/**
 * `turnpike config sync` and deletes, through the real CLI against a real gateway.
 *
 * decK's behaviour (Kong/deck cmd/common.go `syncMain`, cmd/gateway_sync.go): `deck gateway sync`
 * never asks before deleting; its `--yes` ("assume `yes` to prompts and run non-interactively")
 * only answers the `--skip-consumers-with-consumer-groups` warning. So a pipeline or a CI job (no
 * terminal) deletes without `--yes`, exactly as decK. Turnpike adds one question for a person at
 * a terminal (stdin and stderr both TTYs) before it deletes; `--yes` skips it.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BIN, call, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { hasScript, runOnTerminal as runOnPty, runTurnpike } from '../../helpers/cli.js'

/** The sync question, answered with `input` once it is on the terminal. */
const CONTINUE = /Continue\? \(y\/N\) /
const runOnTerminal = (args: readonly string[], input: string) => runOnPty(args, input, CONTINUE)

describe('config sync: deletes without a terminal as decK, a question on one', () => {
  let gw: TestGateway
  let dir = ''
  let file = ''

  before(async () => {
    gw = await startTestGateway()
    dir = mkdtempSync(join(tmpdir(), 'turnpike-sync-confirm-'))
    file = join(dir, 'empty.yaml')
    // the tag's whole selection: nothing, so everything tagged `confirm` is to be deleted
    writeFileSync(file, '_format_version: "3.0"\n_info:\n  select_tags:\n  - confirm\n')
  })
  after(async () => {
    await gw?.stop()
    if (dir !== '') rmSync(dir, { recursive: true, force: true })
  })

  const addService = async (name: string): Promise<void> => {
    const res = await call('POST', `${gw.adminUrl}/services`, { name, url: 'http://127.0.0.1:9', tags: ['confirm'] })
    assert.equal(res.status, 201)
  }
  const exists = async (name: string): Promise<boolean> => (await call('GET', `${gw.adminUrl}/services/${name}`)).status === 200

  test('stdin a pipe, no --yes: no question is asked (even with "n" waiting), the deletes are made', async () => {
    await addService('piped')
    const run = await runTurnpike(['config', 'sync', file, '--admin-url', gw.adminUrl], {}, 30_000, 'n\n')
    assert.equal(run.status, 0, run.stderr)
    assert.doesNotMatch(run.stderr, /Continue\?/)
    assert.match(run.stdout, /^deleting service piped\n/m)
    assert.equal(await exists('piped'), false)
  })

  test('stdin closed (a CI job), no --yes: the deletes are made', async () => {
    await addService('ci')
    const run = await runTurnpike(['config', 'sync', file, '--admin-url', gw.adminUrl])
    assert.equal(run.status, 0, run.stderr)
    assert.equal(await exists('ci'), false)
  })

  test('on a terminal: "n" keeps everything (exit 1, said why); "y" deletes; --yes asks nothing', { skip: !hasScript }, async () => {
    await addService('typed')
    const no = await runOnTerminal(['config', 'sync', file, '--admin-url', gw.adminUrl], 'n\n')
    assert.equal(no.status, 1, no.stdout)
    assert.match(no.stdout, /This will delete 1 entity from http:\/\/127\.0\.0\.1:\d+\. Continue\? \(y\/N\) /)
    assert.match(no.stdout, /Error: nothing was changed \(deletes not confirmed; --yes skips the question\)/)
    assert.equal(await exists('typed'), true)

    const yes = await runOnTerminal(['config', 'sync', file, '--admin-url', gw.adminUrl], 'y\n')
    assert.equal(yes.status, 0, yes.stdout)
    assert.equal(await exists('typed'), false)

    await addService('flagged')
    const flag = await runOnTerminal(['config', 'sync', file, '--yes', '--admin-url', gw.adminUrl], '')
    assert.equal(flag.status, 0, flag.stdout)
    assert.doesNotMatch(flag.stdout, /Continue\?/)
    assert.equal(await exists('flagged'), false)
  })
})
