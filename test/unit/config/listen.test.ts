import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parseListen, ValueProblem } from '../../../src/config/index.js'

function problem(value: string): { message: string; value: string | undefined } {
  try {
    parseListen(value)
  } catch (err) {
    assert.ok(err instanceof ValueProblem)
    return { message: err.message, value: err.value }
  }
  assert.fail(`expected ${value} to be rejected`)
}

describe('parseListen', () => {
  test("parses Kong's default proxy_listen", () => {
    assert.deepEqual(parseListen('0.0.0.0:8000 reuseport backlog=16384, 0.0.0.0:8443 http2 ssl reuseport backlog=16384'), [
      { host: '0.0.0.0', port: 8000, ssl: false, http2: false, reuseport: true, backlog: 16384 },
      { host: '0.0.0.0', port: 8443, ssl: true, http2: true, reuseport: true, backlog: 16384 },
    ])
  })

  test('a plain entry has every flag off and no backlog', () => {
    assert.deepEqual(parseListen('127.0.0.1:8001'), [{ host: '127.0.0.1', port: 8001, ssl: false, http2: false, reuseport: false }])
  })

  test('off as the first entry means no listener', () => {
    assert.deepEqual(parseListen('off'), [])
    assert.deepEqual(parseListen(' off , 127.0.0.1:1'), [])
  })

  test('IPv6 in brackets, returned without brackets', () => {
    assert.deepEqual(parseListen('[::1]:8001 http2'), [{ host: '::1', port: 8001, ssl: false, http2: true, reuseport: false }])
  })

  test('host names and * are accepted; * means all interfaces', () => {
    assert.equal(parseListen('localhost:8000')[0]?.host, 'localhost')
    assert.equal(parseListen('*:8000')[0]?.host, '0.0.0.0')
  })

  test('proxy_protocol, deferred and bind are accepted', () => {
    assert.equal(parseListen('0.0.0.0:8000 proxy_protocol deferred bind').length, 1)
  })

  test('port 0 (any free port) is accepted', () => {
    assert.equal(parseListen('127.0.0.1:0')[0]?.port, 0)
  })

  test('errors name the entry at fault and the problem', () => {
    assert.deepEqual(problem('0.0.0.0:8000, 0.0.0.0:99999'), {
      message: 'port must be between 0 and 65535',
      value: '0.0.0.0:99999',
    })
    assert.deepEqual(problem('8000'), {
      message: 'expected host:port, e.g. 0.0.0.0:8000 (a bare port is not accepted)',
      value: '8000',
    })
    assert.deepEqual(problem('0.0.0.0:80 foo'), {
      message: 'unknown flag "foo" (expected ssl, http2, proxy_protocol, deferred, bind, reuseport, backlog=N)',
      value: '0.0.0.0:80 foo',
    })
    assert.equal(problem('0.0.0.0:80 backlog=x').message, 'backlog must be a positive integer, e.g. backlog=16384')
    assert.equal(problem('::1:8001').message, 'IPv6 addresses must be in brackets, e.g. [::1]:8001')
    assert.equal(problem('[::zz]:8001').message, '"::zz" is not a valid IPv6 address')
    assert.equal(problem('[::1]8001').message, 'expected [ipv6]:port, e.g. [::1]:8001')
    assert.equal(problem('300.1.1.1:80').message, '"300.1.1.1" is not a valid IP address or host name')
    assert.equal(problem('bad_host!:80').message, '"bad_host!" is not a valid IP address or host name')
    assert.equal(problem('0.0.0.0:http').message, 'port must be a number between 0 and 65535')
    assert.equal(problem(':80').message, 'expected host:port, e.g. 0.0.0.0:8000 (the host is missing)')
    assert.equal(problem('').message, 'expected "off" or a list of [host]:port entries')
    assert.equal(problem('0.0.0.0:80,,0.0.0.0:81').message, 'empty entry in the comma-separated list')
  })
})
