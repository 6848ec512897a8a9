/** ip-restriction's matching: IPv4/IPv6 addresses and CIDR ranges, deny before allow. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  IpMatcher,
  ipVerdict,
  prepareIpRestriction as prepareConf,
  type IpRestrictionConfig,
} from '../../../../src/plugins/ip-restriction/index.js'

const prepareIpRestriction = (c: Partial<IpRestrictionConfig>) =>
  prepareConf({ allow: null, deny: null, status: null, message: null, ...c })

describe('ip-restriction matching', () => {
  test('IPv4 addresses and ranges, IPv4-mapped IPv6 counts as IPv4', () => {
    const m = new IpMatcher(['10.0.0.0/8', '192.168.1.7'])
    assert.equal(m.matches('10.200.3.4'), true)
    assert.equal(m.matches('192.168.1.7'), true)
    assert.equal(m.matches('192.168.1.8'), false)
    assert.equal(m.matches('::ffff:10.1.1.1'), true)
    assert.equal(m.matches('not-an-ip'), false)
  })

  test('IPv6 addresses and ranges', () => {
    const m = new IpMatcher(['2001:db8::/32', '::1'])
    assert.equal(m.matches('2001:db8:1::5'), true)
    assert.equal(m.matches('::1'), true)
    assert.equal(m.matches('2001:db9::1'), false)
    assert.equal(m.matches('127.0.0.1'), false)
  })

  test('deny is checked first, then allow; 0.0.0.0/0 matches every IPv4 address', () => {
    const both = prepareIpRestriction({ allow: ['127.0.0.0/8'], deny: ['127.0.0.2'] })
    assert.equal(ipVerdict(both, '127.0.0.1'), null)
    assert.match(ipVerdict(both, '127.0.0.2') ?? '', /in the deny list/)
    assert.match(ipVerdict(both, '10.0.0.1') ?? '', /not in the allow list/)
    const all = prepareIpRestriction({ deny: ['0.0.0.0/0'] })
    assert.notEqual(ipVerdict(all, '8.8.8.8'), null)
    assert.equal(ipVerdict(all, '::1'), null)
    const empty = prepareIpRestriction({ allow: [], deny: ['1.2.3.4'] })
    assert.equal(ipVerdict(empty, '5.6.7.8'), null, 'an empty allow list is not checked (Kong: #conf.allow > 0)')
  })
})
