import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ConfigError, parseConfFile } from '../../../src/config/index.js'
import { load, writeConf } from './helpers.js'

describe('parseConfFile', () => {
  test('reads name = value lines, skipping comments and blank lines', () => {
    const text = ['# a comment', '', '   log_level   =   debug   ', 'database=off', '\t# indented comment'].join('\n')
    const entries = parseConfFile(text, 'x.conf')
    assert.deepEqual(
      [...entries],
      [
        ['log_level', { value: 'debug', line: 3 }],
        ['database', { value: 'off', line: 4 }],
      ],
    )
  })

  test('a # starts a comment inside a value unless escaped as \\#', () => {
    const entries = parseConfFile('real_ip_header = X-Real-IP # the header\nnginx_http_x = a\\#b # c\n', 'x.conf')
    assert.equal(entries.get('real_ip_header')?.value, 'X-Real-IP')
    assert.equal(entries.get('nginx_http_x')?.value, 'a#b')
  })

  test('handles CRLF line endings, empty values and repeated names (last wins)', () => {
    const entries = parseConfFile('log_level = info\r\ntrusted_ips =\r\nlog_level = warn\r\n', 'x.conf')
    assert.equal(entries.get('log_level')?.value, 'warn')
    assert.equal(entries.get('log_level')?.line, 3)
    assert.equal(entries.get('trusted_ips')?.value, '')
  })

  test('lower-cases names', () => {
    assert.equal(parseConfFile('LOG_LEVEL = info', 'x.conf').get('log_level')?.value, 'info')
  })

  test('rejects a line without "=" with its file and line number', () => {
    assert.throws(
      () => parseConfFile('log_level = info\njust words\n', '/etc/t.conf'),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError)
        assert.equal(err.message, 'invalid line in /etc/t.conf line 2: "just words": expected "name = value"')
        return true
      },
    )
  })

  test('rejects a malformed name', () => {
    assert.throws(() => parseConfFile('log level = info', 't.conf'), /invalid line in t.conf line 1: "log level = info"/)
  })
})

describe('conf file values through loadConfig', () => {
  test('booleans accept on/off/true/false', () => {
    for (const [text, expected] of [
      ['on', true],
      ['true', true],
      ['off', false],
      ['false', false],
      ['ON', true],
    ] as const) {
      const conf = load({ confPath: writeConf(`allow_debug_header = ${text}\nreal_ip_recursive = ${text}\n`) })
      assert.equal(conf.allow_debug_header, expected)
      assert.equal(conf.real_ip_recursive, expected)
    }
  })

  test('values with escaped # survive into raw', () => {
    const conf = load({ confPath: writeConf('nginx_http_add_header = X-Tag a\\#1 # comment\n') })
    assert.equal(conf.raw.nginx_http_add_header, 'X-Tag a#1')
  })
})
