/**
 * A kong.conf as Kong users have it (issue 18, theme 9), on a real gateway: Kong Enterprise
 * settings and nginx_* injections start the node with one `warn` line each saying they have no
 * effect, and the keep-alive directives that map to a real limit are honoured (nginx's
 * keepalive_requests: the Nth response on a connection says `Connection: close`).
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Agent, get } from 'node:http'
import type { Socket } from 'node:net'
import { eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js'

/** `n` requests one after the other through one keep-alive agent: each answer's Connection header and socket. */
async function sequentialRequests(port: number, n: number): Promise<{ connection: string | undefined; socket: Socket }[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const out: { connection: string | undefined; socket: Socket }[] = []
  try {
    for (let i = 0; i < n; i++) {
      out.push(
        await new Promise((resolve, reject) => {
          const req = get({ host: '127.0.0.1', port, path: '/nowhere', agent }, (res) => {
            res.resume()
            res.on('end', () => resolve({ connection: res.headers.connection, socket: req.socket as Socket }))
          })
          req.on('error', reject)
        }),
      )
    }
  } finally {
    agent.destroy()
  }
  return out
}

describe('kong.conf: Enterprise keys and nginx directives', () => {
  let gw: TestGateway
  before(async () => {
    gw = await startTestGateway({
      settings: { enforce_rbac: 'on', vitals: 'off', nginx_proxy_proxy_buffer_size: '160k', nginx_http_keepalive_requests: '2' },
    })
  })
  after(async () => {
    await gw?.stop()
  })

  test('the node starts and names each setting it cannot act on, once', async () => {
    await eventually(() => Promise.resolve(/vitals is a Kong/.test(gw.errorLog())), 5000, 'the warn lines after the start line')
    const log = gw.errorLog()
    assert.match(log, /\[warn\].*enforce_rbac is a Kong Enterprise setting: accepted, no effect in Turnpike/)
    assert.match(log, /\[warn\].*vitals is a Kong Enterprise setting/)
    assert.match(log, /\[warn\].*nginx_proxy_proxy_buffer_size injects the nginx directive 'proxy_buffer_size 160k'/)
    assert.equal(log.match(/enforce_rbac is a Kong/g)?.length, 1)
    assert.doesNotMatch(log, /nginx_http_keepalive_requests injects/)
  })

  test('nginx_http_keepalive_requests = 2: the second response closes the connection', async () => {
    const [first, second, third] = await sequentialRequests(gw.proxyPort, 3)
    assert.equal(first?.connection, 'keep-alive')
    assert.equal(second?.connection, 'close')
    assert.equal(second?.socket, first?.socket, 'the first two share the connection')
    assert.notEqual(third?.socket, second?.socket, 'the third needs a new one')
  })
})
