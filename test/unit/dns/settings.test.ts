/**
 * The dns_* settings: Kong's defaults, parsing and Kong's validation messages, and the DNS
 * client options the proxy's resolver is built from.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError } from '../../../src/config/errors.js'
import { dnsOptions } from '../../../src/proxy/resolver.js'
import { load, tempDir } from '../config/helpers.js'

describe('dns_* settings', () => {
  test('Kong 3.9 defaults', () => {
    const c = load()
    assert.deepEqual(c.dns_resolver, [])
    assert.equal(c.dns_hostsfile, '/etc/hosts')
    assert.deepEqual(c.dns_order, ['LAST', 'SRV', 'A', 'CNAME'])
    assert.equal(c.dns_valid_ttl, null)
    assert.equal(c.dns_stale_ttl, 3600)
    assert.equal(c.dns_not_found_ttl, 30)
    assert.equal(c.dns_error_ttl, 1)
    assert.equal(c.dns_cache_size, 10000)
    assert.equal(c.dns_no_sync, false)
  })

  test('values are parsed and normalized; the resolver options follow them', () => {
    const hosts = join(tempDir(), 'hosts')
    writeFileSync(hosts, '127.0.0.1 x\n')
    const c = load({
      overrides: {
        dns_resolver: '127.0.0.1:5353, 10.0.0.2, ::1, [::1]:5300',
        dns_hostsfile: hosts,
        dns_order: 'last,a,aaaa,SRV',
        dns_valid_ttl: '5',
        dns_stale_ttl: '0.5',
        dns_not_found_ttl: '2',
        dns_error_ttl: '0',
        dns_cache_size: '7',
        dns_no_sync: 'on',
      },
    })
    assert.deepEqual(c.dns_resolver, ['127.0.0.1:5353', '10.0.0.2:53', '[::1]:53', '[::1]:5300'])
    assert.deepEqual(c.dns_order, ['LAST', 'A', 'AAAA', 'SRV'])
    assert.deepEqual(dnsOptions(c), {
      nameservers: ['127.0.0.1:5353', '10.0.0.2:53', '[::1]:53', '[::1]:5300'],
      hostsFile: hosts,
      order: ['LAST', 'A', 'AAAA', 'SRV'],
      validTtl: 5,
      staleTtl: 0.5,
      notFoundTtl: 2,
      errorTtl: 0,
      cacheSize: 7,
      noSync: true,
    })
  })

  test("Kong's validation messages", () => {
    const bad = (overrides: Record<string, string>, message: RegExp): void => {
      assert.throws(
        () => load({ overrides }),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
      )
    }
    bad(
      { dns_resolver: '1.2.3.4:53;4.3.2.1' },
      /^invalid dns_resolver: .*must be a comma separated list in the form of IPv4\/6 or IPv4\/6:port, got '1\.2\.3\.4:53;4\.3\.2\.1'/,
    )
    bad({ dns_resolver: 'dns.example.com' }, /got 'dns\.example\.com'/)
    bad({ dns_hostsfile: '/a_file_that_does_not_exist' }, /^invalid dns_hostsfile: .*file does not exist/)
    bad({ dns_order: 'LAST,MX' }, /^invalid dns_order: .*invalid entry 'MX'/)
    bad({ dns_stale_ttl: '-1' }, /^invalid dns_stale_ttl/)
    bad({ dns_cache_size: '0' }, /^invalid dns_cache_size/)
    bad({ dns_no_sync: 'maybe' }, /^invalid dns_no_sync/)
  })
})
