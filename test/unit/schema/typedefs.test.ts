import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  validateHost,
  validateHostWithOptionalPort,
  validateIpOrCidr,
  validateRouteHost,
  validateRouterPath,
  validateSni,
  validateTag,
  validateUtf8Name,
  validateWildcardHost,
  validatePath,
  validateHeaderName,
  validateName,
  validateIp,
} from '../../../src/schema/validators.js'
import { normalizeUri } from '../../../src/schema/uri.js'

type Case = [input: string, expected: string | undefined]
function table(name: string, fn: (s: string) => string | undefined, cases: Case[]): void {
  describe(name, () => {
    for (const [input, expected] of cases) {
      test(`${JSON.stringify(input)} → ${expected ?? 'valid'}`, () => assert.equal(fn(input), expected))
    }
  })
}

table('host', validateHost, [
  ['example.com', undefined],
  ['192.0.2.1', undefined],
  ['2001:db8::1', undefined],
  ['-leading-dash.com', undefined],
  ['fqdn.example.com.', undefined],
  ['192.0.2.1.1', 'invalid value: 192.0.2.1.1'],
  ['192.0.2.1:80', 'must not have a port'],
  ['example.com:80', 'must not have a port'],
  ['example.com:99999', 'must not have a port'],
  ['2001:db8::1::1', 'invalid value: 2001:db8::1::1'],
  ['ex ample.com', 'invalid value: ex ample.com'],
  ['trailing-.com', 'invalid value: trailing-.com'],
  ['a..b', 'invalid value: a..b'],
])

table('host_with_optional_port', validateHostWithOptionalPort, [
  ['foo.com:80', undefined],
  ['[2001:DB8::1]:80', undefined],
  ['192.0.2.1.1:80', 'invalid ipv4 address: 192.0.2.1.1:80'],
  ['2001:DB8::1::1', 'invalid ipv6 address: 2001:DB8::1::1'],
  ['[2001:DB8::1]:99999999', 'invalid port number'],
  ['foo!.com', 'invalid hostname: foo!.com'],
])

table('sni', validateSni, [
  ['www.konghq.com', undefined],
  ['www.konghq.com:8080', 'must not have a port'],
  ['192.0.2.0', 'must not be an IP'],
  ['2001:db8::1', 'must not be an IP'],
])

table('wildcard_host', validateWildcardHost, [
  ['*test.com', undefined],
  ['test.*', undefined],
  ['*test.*', 'only one wildcard must be specified'],
  ['new*test', 'wildcard must be leftmost or rightmost character'],
])

table('route hosts entry', validateRouteHost, [
  ['*.example.com', undefined],
  ['example.*', undefined],
  ['example.com:8080', undefined],
  ['*.*.com', 'invalid wildcard: must have at most one wildcard'],
  ['ex*ample.com', 'invalid wildcard: must be placed at leftmost or rightmost label'],
  ['*.exa mple.com', 'invalid hostname: abc.exa mple.com'],
])

table('ip', validateIp, [
  ['192.0.2.1', undefined],
  ['::1', undefined],
  ['192.0.2.1.1', 'not an ip address: 192.0.2.1.1'],
])

table('ip_or_cidr', validateIpOrCidr, [
  ['192.0.2.0/24', undefined],
  ['10.0.0.1', undefined],
  ['2001:db8::/32', undefined],
  ['192.0.2.0/244', "invalid ip or cidr range: '192.0.2.0/244'"],
  ['192.0.2.0/08', "invalid ip or cidr range: '192.0.2.0/08'"],
  ['nope', "invalid ip or cidr range: 'nope'"],
])

table('path', validatePath, [
  ['/foo/bar', undefined],
  ['/foo%20bar', undefined],
  ['/foo bar', "invalid path: '/foo bar' (characters outside of the reserved list of RFC 3986 found)"],
  ['/foo%2', "invalid url-encoded value: '%2'"],
  ['/foo%zz', "invalid url-encoded value: '%zz'"],
])

table('router path', validateRouterPath, [
  ['/', undefined],
  ['/foo', undefined],
  ['~/users/(?<id>\\d+)$', undefined],
  ['~/users/(?P<id>\\d+)$', undefined],
  ['foo', 'should start with: / (fixed path) or ~/ (regex path)'],
  ['/foo//bar', 'must not have empty segments'],
  ['/a/../b', "non-normalized path, consider use '/b' instead"],
  ['/a/./b', "non-normalized path, consider use '/a/b' instead"],
  ['/%c3%A4', "non-normalized path, consider use '/ä' instead"],
  ['/%2F', undefined],
  ['/%2f', "non-normalized path, consider use '/%2F' instead"],
  ['/foo%zz', "invalid url-encoded value: '%zz'"],
  ['/with space', undefined],
])

test('router path: invalid regex', () => {
  assert.match(validateRouterPath('~/(foo') ?? '', /^invalid regex: '\/\(foo' \(PCRE returned: .+\)$/)
})

table('header name', validateHeaderName, [
  ['x-header', undefined],
  ['!header', "bad header name '!header', allowed characters are A-Z, a-z, 0-9, '_', and '-'"],
])

table('name', validateName, [
  ['foo.-_~', undefined],
  ['foo.-_~!', "invalid value 'foo.-_~!': it must only contain alphanumeric and '., -, _, ~' characters"],
])

table('utf8 name', validateUtf8Name, [
  ['foo.-_~', undefined],
  ['fõõ-服务', undefined],
  ['foo.-_~!', "invalid value 'foo.-_~!': the only accepted ascii characters are alphanumerics or ., -, _, and ~"],
  ['a b', "invalid value 'a b': the only accepted ascii characters are alphanumerics or ., -, _, and ~"],
  ['a\ud800', 'invalid utf-8 character sequence detected at position 2'],
])

table('tag', validateTag, [
  ['tag1', undefined],
  ['with space', undefined],
  ['ünïcode', undefined],
  ['tag1,', "invalid tag 'tag1,': expected printable ascii (except `,` and `/`) or valid utf-8 sequences"],
  ['a/b', "invalid tag 'a/b': expected printable ascii (except `,` and `/`) or valid utf-8 sequences"],
  ['tab\t', "invalid tag 'tab\t': expected printable ascii (except `,` and `/`) or valid utf-8 sequences"],
])

describe('normalizeUri', () => {
  const cases: [string, string][] = [
    ['/', '/'],
    ['/a/b', '/a/b'],
    ['/a/./b', '/a/b'],
    ['/a/../b', '/b'],
    ['/../a', '/a'],
    ['/a/..', '/'],
    ['/a//b', '/a/b'],
    ['/%41%62', '/Ab'],
    ['/%3b', '/%3B'],
    ['/a/%2e%2e/b', '/b'],
  ]
  for (const [input, expected] of cases) test(`${input} → ${expected}`, () => assert.equal(normalizeUri(input, true), expected))
})
