/**
 * The listener TLS settings Kong passes to nginx (issue 16): `ssl_session_tickets`,
 * `ssl_session_timeout`, `ssl_session_cache_size` and `ssl_dhparam`, checked with node TLS clients
 * against two gateways: one with Kong's defaults (`custom` suite, no DH parameters) and one with
 * tickets off, a 2 s session timeout and `ssl_dhparam = ffdhe3072`.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { connect, type ConnectionOptions, type EphemeralKeyInfo } from 'node:tls'
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { freePort } from '../../helpers/ports.js'

interface Handshake {
  readonly reused: boolean
  readonly ticket: boolean
  readonly session: Buffer | undefined
  readonly key: EphemeralKeyInfo | object | null
  readonly cipher: string
}

/** A TLSv1.2 handshake to 127.0.0.1 (resuming `session` if given); waits for the session the server hands out. */
function handshake(port: number, opts: ConnectionOptions = {}): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    let session: Buffer | undefined
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'a.test', maxVersion: 'TLSv1.2', ...opts })
    socket.once('session', (s: Buffer) => (session = s))
    socket.once('secureConnect', () => {
      // The session (and its ticket) arrives with the handshake's last flight.
      setTimeout(() => {
        const r = {
          reused: socket.isSessionReused(),
          ticket: socket.getTLSTicket() !== undefined,
          session: session ?? socket.getSession(),
          key: socket.getEphemeralKeyInfo(),
          cipher: socket.getCipher().name,
        }
        socket.end()
        resolve(r)
      }, 50)
    })
    socket.on('error', reject)
  })
}

describe('listener TLS sessions and DH parameters', () => {
  let defaults: TestGateway
  let tuned: TestGateway
  let defaultsTls: number
  let tunedTls: number

  before(async () => {
    defaultsTls = await freePort()
    tunedTls = await freePort()
    defaults = await startTestGateway({
      settings: { proxy_listen: `127.0.0.1:${defaultsTls} ssl`, ssl_cipher_suite: 'custom' },
    })
    tuned = await startTestGateway({
      settings: {
        proxy_listen: `127.0.0.1:${tunedTls} ssl`,
        ssl_cipher_suite: 'custom',
        ssl_session_tickets: 'off',
        ssl_session_timeout: '2s',
        ssl_dhparam: 'ffdhe3072',
      },
    })
  })

  after(async () => {
    await defaults?.stop()
    await tuned?.stop()
  })

  test('ssl_session_tickets on (the default): the gateway issues a ticket and the client resumes with it', async () => {
    const first = await handshake(defaultsTls)
    assert.equal(first.reused, false)
    assert.equal(first.ticket, true)
    const again = await handshake(defaultsTls, { session: first.session })
    assert.equal(again.reused, true)
    const tls13 = await handshake(defaultsTls, { maxVersion: 'TLSv1.3' })
    assert.equal((await handshake(defaultsTls, { maxVersion: 'TLSv1.3', session: tls13.session })).reused, true, 'TLSv1.3 too')
  })

  test('ssl_session_tickets off: no ticket; the session cache resumes by session id until ssl_session_timeout', async () => {
    const first = await handshake(tunedTls)
    assert.equal(first.ticket, false)
    const again = await handshake(tunedTls, { session: first.session })
    assert.equal(again.reused, true, 'resumed from the session cache')
    // OpenSSL keeps a session's start to the second: 2 s is at least 1 s and at most 2 s here.
    await new Promise((r) => setTimeout(r, 2300))
    const late = await handshake(tunedTls, { session: first.session })
    assert.equal(late.reused, false, 'the session expired after ssl_session_timeout = 2s')
  })

  test('ssl_dhparam: DHE ciphers use the configured group; without it they are off, as in nginx', async () => {
    const dhe = { ciphers: 'DHE-RSA-AES128-GCM-SHA256' }
    const r = await handshake(tunedTls, dhe)
    assert.equal(r.cipher, 'DHE-RSA-AES128-GCM-SHA256')
    const key = r.key as EphemeralKeyInfo
    assert.deepEqual([key.type, key.size], ['DH', 3072])
    await assert.rejects(handshake(defaultsTls, dhe), /handshake failure|SSL alert number 40/)
  })
})
