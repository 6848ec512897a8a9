/**
 * `turnpike doctor` on a terminal: progress on stderr while the services are probed, and the
 * coloured table; piped, neither (doctor.test.ts checks the plain lines).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { call, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { hasScript, runOnTerminal, runTurnpike } from '../../helpers/cli.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'

let gw: TestGateway
let upstream: TestUpstream

before(async () => {
  upstream = await startUpstream((_req, res) => res.end('ok'))
  gw = await startTestGateway()
  for (const name of ['one', 'two', 'three'])
    assert.equal((await call('POST', `${gw.adminUrl}/services`, { name, url: `http://127.0.0.1:${upstream.port}/` })).status, 201)
})

after(async () => {
  await gw.stop()
  await upstream.close()
})

test('on a terminal: "probing n/N" progress, then a coloured table; piped: plain lines only', { skip: !hasScript }, async () => {
  const tty = await runOnTerminal(['doctor', '-p', gw.prefix, '--keepalive-wait', '0'], '')
  assert.equal(tty.status, 0, tty.stdout)
  assert.match(tty.stdout, /probing 0\/3 …/)
  assert.match(tty.stdout, /probing 3\/3 …/)
  assert.match(tty.stdout, /\x1b\[\d+(;\d+)*m/, 'ANSI colours on a terminal')
  for (const name of ['one', 'two', 'three']) assert.match(tty.stdout, new RegExp(`service ${name}`))

  const piped = await runTurnpike(['doctor', '-p', gw.prefix, '--keepalive-wait', '0'])
  assert.equal(piped.status, 0, piped.stderr)
  assert.doesNotMatch(piped.stdout + piped.stderr, /probing|\x1b\[/)
  assert.match(piped.stdout, /^ok +tcp +service one: TCP connect to 127\.0\.0\.1:\d+ in [\d.]+ ms$/m)
})
