/** Which proxy listeners each worker binds itself (reuseport) and which it shares with the primary. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parseListenEntry } from '../../../src/config/listen.js'
import { acceptMode, describeAcceptMode, listenerName, workerListenOptions } from '../../../src/runtime/accept-mode.js'

describe('acceptMode', () => {
  test('reuseport on Linux: each worker binds its own socket (exclusive, reusePort)', () => {
    const l = parseListenEntry('0.0.0.0:8000 reuseport backlog=16384')
    assert.deepEqual(acceptMode(l, 'linux'), { mode: 'reuseport' })
    if (process.platform === 'linux')
      assert.deepEqual(workerListenOptions(l), { host: '0.0.0.0', port: 8000, backlog: 16384, reusePort: true, exclusive: true })
    if (process.platform === 'linux')
      assert.equal(describeAcceptMode(l, 2, true), '0.0.0.0:8000 reuseport: each worker accepts on its own socket')
  })

  test('without the flag: the socket shared through node:cluster, as before', () => {
    const l = parseListenEntry('127.0.0.1:8000 backlog=10')
    assert.deepEqual(acceptMode(l, 'linux'), { mode: 'shared', fallback: null })
    assert.deepEqual(workerListenOptions(l), { host: '127.0.0.1', port: 8000, backlog: 10 })
    assert.equal(describeAcceptMode(l, 1, false), '127.0.0.1:8000: the worker accepts on the socket it shares with the primary')
    assert.equal(describeAcceptMode(l, 4, true), '127.0.0.1:8000: the primary accepts and hands connections to workers round-robin')
    assert.equal(describeAcceptMode(l, 4, false), '127.0.0.1:8000: workers accept on the socket they share with the primary')
  })

  test('reuseport falls back to the shared socket outside Linux and on port 0, and says why', () => {
    assert.deepEqual(acceptMode(parseListenEntry('0.0.0.0:8000 reuseport'), 'darwin'), {
      mode: 'shared',
      fallback: 'reuseport needs Linux (this is darwin)',
    })
    const zero = parseListenEntry('[::1]:0 reuseport')
    assert.equal(acceptMode(zero, 'linux').mode, 'shared')
    assert.equal(workerListenOptions(zero).reusePort, undefined)
    assert.equal(
      describeAcceptMode(zero, 2, true),
      '[::1]:0: the primary accepts and hands connections to workers round-robin (reuseport is not used on port 0: each worker would get a different port)',
    )
  })

  test('an ssl listener is accepted as a plain one, and named with ssl (and http2)', () => {
    const l = parseListenEntry('0.0.0.0:8443 http2 ssl reuseport backlog=16384')
    assert.deepEqual(acceptMode(l, 'linux'), { mode: 'reuseport' })
    if (process.platform === 'linux')
      assert.equal(describeAcceptMode(l, 2, true), '0.0.0.0:8443 ssl http2 reuseport: each worker accepts on its own socket')
    assert.equal(listenerName(parseListenEntry('[::1]:0 ssl'), 8444), '[::1]:8444 ssl')
    assert.equal(listenerName(parseListenEntry('127.0.0.1:8001')), '127.0.0.1:8001')
  })
})
