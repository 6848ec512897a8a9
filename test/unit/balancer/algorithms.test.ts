/**
 * The balancing algorithms, the hash input and the balancer's health rules, without a gateway.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ConsistentHashing, LeastConnections, Latency, type Peer, recordLatency, RoundRobin } from '../../../src/balancer/algorithms.js'
import { Balancer, HealthView } from '../../../src/balancer/balancer.js'
import { resolveUpstream } from '../../../src/balancer/config.js'
import { requestHash } from '../../../src/balancer/hash-input.js'
import { targetRow, upstreamRow } from '../../helpers/entity-rows.js'

function peer(ip: string, weight: number): Peer {
  return { key: `${ip}:80|${ip}`, ip, port: 80, weight, active: 0, ewma: 0, ewmaAt: 0 }
}
const all = { available: () => true, tried: null, hash: null }

describe('round-robin', () => {
  test('gives each address exactly its weight share over whole turns of the wheel', () => {
    const peers = [peer('10.0.0.1', 10), peer('10.0.0.2', 30), peer('10.0.0.3', 60)]
    const rr = new RoundRobin()
    rr.rebuild(peers)
    const counts = new Map<string, number>()
    for (let i = 0; i < 1000; i++) {
      const p = rr.pick(all) as Peer
      counts.set(p.ip, (counts.get(p.ip) ?? 0) + 1)
    }
    assert.deepEqual([counts.get('10.0.0.1'), counts.get('10.0.0.2'), counts.get('10.0.0.3')], [100, 300, 600])
  })
  test('skips unavailable addresses and prefers untried ones on retries', () => {
    const [x, y] = [peer('10.0.0.1', 1), peer('10.0.0.2', 1)]
    const rr = new RoundRobin()
    rr.rebuild([x, y])
    for (let i = 0; i < 10; i++) assert.equal(rr.pick({ available: (p) => p !== x, tried: null, hash: null }), y)
    for (let i = 0; i < 10; i++) assert.equal(rr.pick({ available: () => true, tried: new Set([x]), hash: null }), y)
    assert.equal(rr.pick({ available: () => false, tried: null, hash: null }), null)
  })
})

describe('consistent-hashing', () => {
  test('same hash → same address; removing an address moves only its keys', () => {
    const peers = [peer('10.0.0.1', 100), peer('10.0.0.2', 100), peer('10.0.0.3', 100)]
    const ch = new ConsistentHashing(1000)
    ch.rebuild(peers)
    const before = new Map<number, string>()
    for (let k = 0; k < 300; k++) {
      const h = (k * 2654435761) >>> 0
      const p = ch.pick({ ...all, hash: h }) as Peer
      assert.equal((ch.pick({ ...all, hash: h }) as Peer).ip, p.ip)
      before.set(h, p.ip)
    }
    const used = new Set(before.values())
    assert.equal(used.size, 3)
    ch.rebuild(peers.slice(0, 2))
    for (const [h, ip] of before) if (ip !== '10.0.0.3') assert.equal((ch.pick({ ...all, hash: h }) as Peer).ip, ip)
  })
  test('an unavailable address sends its keys to the next one on the ring', () => {
    const [x, y] = [peer('10.0.0.1', 100), peer('10.0.0.2', 100)]
    const ch = new ConsistentHashing(100)
    ch.rebuild([x, y])
    for (let k = 0; k < 50; k++) assert.equal(ch.pick({ available: (p) => p !== x, tried: null, hash: k * 7919 }), y)
  })
})

describe('least-connections and latency', () => {
  test('least-connections picks the address with the fewest in-flight requests per weight', () => {
    const [x, y] = [peer('10.0.0.1', 100), peer('10.0.0.2', 100)]
    const lc = new LeastConnections()
    lc.rebuild([x, y])
    x.active = 3
    y.active = 1
    assert.equal(lc.pick(all), y)
    y.weight === 100 && (y.active = 5)
    assert.equal(lc.pick(all), x)
  })
  test('latency prefers the lower EWMA', () => {
    const [x, y] = [peer('10.0.0.1', 100), peer('10.0.0.2', 100)]
    const l = new Latency()
    l.rebuild([x, y])
    recordLatency(x, 200)
    recordLatency(y, 5)
    for (let i = 0; i < 5; i++) assert.equal(l.pick(all), y)
  })
})

describe('hash input', () => {
  const base = { consumerId: null, clientIp: '192.0.2.1', headers: {}, path: '/p', query: null, captures: null }
  test('header, then fallback; cookie made up with its Set-Cookie when absent', () => {
    const u = resolveUpstream(upstreamRow({ name: 'u', hash_on: 'header', hash_on_header: 'x-user', hash_fallback: 'ip' }))
    assert.equal(u.algorithm, 'consistent-hashing', 'hash_on switches the algorithm')
    const a = requestHash(u, { ...base, headers: { 'x-user': 'alice' } })
    assert.equal(requestHash(u, { ...base, headers: { 'x-user': 'alice' } }).hash, a.hash)
    // A header sent twice hashes as nginx's $http_x_user gives it (Kong 3.9's balancer/init.lua).
    const twice = requestHash(u, { ...base, headers: { 'x-user': ['alice', 'bob'] } }).hash
    assert.equal(twice, requestHash(u, { ...base, headers: { 'x-user': 'alice, bob' } }).hash)
    assert.notEqual(twice, a.hash)
    const fb = requestHash(u, base)
    assert.equal(fb.hash, requestHash(u, { ...base, headers: {} }).hash)
    assert.notEqual(fb.hash, null)
    const c = resolveUpstream(upstreamRow({ name: 'c', hash_on: 'cookie', hash_on_cookie: 'sid', hash_on_cookie_path: '/app' }))
    const made = requestHash(c, base)
    assert.match(made.setCookie ?? '', /^sid=[0-9a-f-]{36}; Path=\/app$/)
    const value = (made.setCookie ?? '').slice(4, 40)
    const back = requestHash(c, { ...base, headers: { cookie: `other=1; sid=${value}` } })
    assert.equal(back.hash, made.hash)
    assert.equal(back.setCookie, null)
  })
  test('query_arg and uri_capture', () => {
    const q = resolveUpstream(upstreamRow({ name: 'q', hash_on: 'query_arg', hash_on_query_arg: 'k' }))
    assert.equal(requestHash(q, { ...base, query: 'k=1&x=2' }).hash, requestHash(q, { ...base, query: 'x=3&k=1' }).hash)
    const cap = resolveUpstream(upstreamRow({ name: 'r', hash_on: 'uri_capture', hash_on_uri_capture: 'id' }))
    assert.equal(requestHash(cap, { ...base, captures: { id: '42' } }).hash, requestHash(cap, { ...base, captures: { id: '42' } }).hash)
    assert.equal(requestHash(cap, base).hash, null)
  })
})

describe('balancer', () => {
  test('weight 0 targets are never picked; threshold makes the balancer unhealthy', () => {
    const view = new HealthView()
    const up = upstreamRow({ name: 'svc.up', healthchecks: { threshold: 50 } })
    const rows = [targetRow(up, '10.0.0.1:80'), targetRow(up, '10.0.0.2:80'), targetRow(up, '10.0.0.3:80', { weight: 0 })]
    const b = new Balancer(up, rows, { resolver: null, health: view, report: null })
    for (let i = 0; i < 20; i++) {
      const r = b.pick(null, null)
      assert.ok(r.ok)
      assert.notEqual(r.address.ip, '10.0.0.3')
      b.release(r.address, null)
    }
    view.set({ [up.id]: ['10.0.0.1:80|10.0.0.1'] })
    // 50 % available is not above the 50 % threshold.
    const r = b.pick(null, null)
    assert.deepEqual(r, { ok: false, reason: 'Balancer is unhealthy' })
    view.set({})
    assert.ok(b.pick(null, null).ok)
  })
  test('hostname targets take their addresses from the resolver (SRV ports and weights)', async () => {
    const view = new HealthView()
    const resolver = {
      resolve: async () => ({
        ok: true,
        addresses: [
          { address: '10.1.0.1', port: 9001, weight: 5 },
          { address: '10.1.0.2', port: 9002, weight: 0 },
        ],
      }),
    }
    const up = upstreamRow({ name: 'srv.up' })
    const b = new Balancer(up, [targetRow(up, 'svc.example:80')], { resolver, health: view, report: null })
    await b.refresh()
    const t = b.targets[0]
    assert.ok(t !== undefined)
    assert.equal(t.dns, 'SRV')
    assert.deepEqual(
      t.addresses.map((a) => [a.ip, a.port, a.weight]),
      [
        ['10.1.0.1', 9001, 5],
        ['10.1.0.2', 9002, 1],
      ],
    )
  })
})

describe('balancer over the DNS client', () => {
  test('a hostname target gets every A record (client.lookup), SRV targets resolved in turn', async () => {
    const sets: Record<string, unknown> = {
      'multi.test': {
        ok: true,
        records: [
          { type: 'A', address: '10.2.0.1' },
          { type: 'A', address: '10.2.0.2' },
        ],
      },
      'srv.test': {
        ok: true,
        records: [
          { type: 'SRV', target: 'node1.test', port: 7001, weight: 10 },
          { type: 'SRV', target: '10.3.0.2', port: 7002, weight: 20 },
        ],
      },
    }
    const resolver = {
      client: { lookup: (n: string) => Promise.resolve(sets[n] ?? { ok: false, message: 'dns server error: 3 name error' }) },
      resolve: (n: string) => (n === 'node1.test' ? { ok: true, address: '10.3.0.1' } : { ok: false, message: 'nope' }),
    }
    const up = upstreamRow({ name: 'm.up' })
    const b = new Balancer(
      up,
      [targetRow(up, 'multi.test:81', { weight: 7 }), targetRow(up, 'srv.test:80'), targetRow(up, 'missing.test:80')],
      { resolver, health: new HealthView(), report: null },
    )
    await b.refresh()
    const [t1, t2, t3] = b.targets
    assert.deepEqual(
      t1?.addresses.map((a) => [a.ip, a.port, a.weight]),
      [
        ['10.2.0.1', 81, 7],
        ['10.2.0.2', 81, 7],
      ],
    )
    assert.deepEqual(t2?.addresses.map((a) => [a.ip, a.port, a.weight]).sort(), [
      ['10.3.0.1', 7001, 10],
      ['10.3.0.2', 7002, 20],
    ])
    assert.equal(t2?.dns, 'SRV')
    assert.equal(t3?.addresses.length, 0)
    assert.equal(t3?.dns, 'dns server error: 3 name error')
  })
})
