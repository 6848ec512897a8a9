/**
 * The DNS client (src/dns/client.ts) against a real authoritative DNS server on 127.0.0.1
 * (test/helpers/dns-server.ts): cache and shared in-flight queries proven by the server's query
 * counter, TTL expiry, stale-while-revalidate with a dead server, NXDOMAIN/SERVFAIL/timeout in
 * Kong's words, SRV port and weight, dns_order and LAST, the hosts file, IP literals, CNAME.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DnsClient } from '../../../src/dns/client.js'
import type { DnsClientOptions, LookupAnswer, ResolveAnswer, ResolvedAddress, ResolveFailure } from '../../../src/dns/types.js'
import { startDnsServer, type TestDnsServer } from '../../helpers/dns-server.js'

let dns: TestDnsServer
let dir: string
let hostsFile: string
let resolvConf: string
const clients: DnsClient[] = []

before(async () => {
  dns = await startDnsServer()
  dir = mkdtempSync(join(tmpdir(), 'turnpike-dns-'))
  hostsFile = join(dir, 'hosts')
  writeFileSync(hostsFile, '127.0.0.9 hosted.test # comment\n::9 v6only.test\n127.0.0.1 localhost\n')
  // No search domains: the queries the server sees are exactly the names asked.
  resolvConf = join(dir, 'resolv.conf')
  writeFileSync(resolvConf, 'nameserver 127.0.0.1\n')
})

after(async () => {
  for (const c of clients) c.close()
  await dns.close()
  rmSync(dir, { recursive: true, force: true })
})

function client(opts: DnsClientOptions = {}): DnsClient {
  const c = new DnsClient({ nameservers: [dns.address], hostsFile, resolvConf, timeoutMs: 300, attempts: 1, ...opts })
  clients.push(c)
  return c
}

async function ok(p: ResolveAnswer | Promise<ResolveAnswer>): Promise<ResolvedAddress> {
  const r = await p
  assert.ok(r.ok, `expected an answer, got ${JSON.stringify(r)}`)
  return r
}

async function failed(p: ResolveAnswer | LookupAnswer | Promise<ResolveAnswer | LookupAnswer>): Promise<ResolveFailure> {
  const r = await p
  assert.ok(!r.ok, `expected a failure, got ${JSON.stringify(r)}`)
  return r
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Polls (bounded) until `fn` is true. */
async function until(fn: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

describe('DNS client against a real DNS server', () => {
  test('A answer: address, type, TTL and the nameserver; then answered from the cache synchronously', async () => {
    dns.set('a1.test', { A: ['127.0.0.2', '127.0.0.3'], ttl: 60 })
    const c = client()
    const first = c.resolve('a1.test')
    assert.ok(first instanceof Promise, 'a cache miss returns a promise')
    const r = await ok(first)
    assert.equal(r.address, '127.0.0.2')
    assert.equal(r.type, 'A')
    assert.equal(r.ttl, 60)
    assert.equal(r.source, dns.address)
    assert.equal(r.port, null)
    assert.equal(r.stale, false)
    // Default order LAST,SRV,A,CNAME: the SRV question came first (no data), then A.
    assert.equal(dns.count('a1.test', 'SRV'), 1)
    assert.equal(dns.count('a1.test', 'A'), 1)
    // Cached: synchronous, rotating over the addresses, no new question.
    const second = c.resolve('A1.TEST')
    assert.ok(!(second instanceof Promise), 'a cached answer is synchronous')
    assert.equal((second as ResolvedAddress).address, '127.0.0.3')
    assert.equal((c.resolve('a1.test') as ResolvedAddress).address, '127.0.0.2')
    assert.equal(dns.count('a1.test'), 2)
  })

  test('concurrent lookups of one name share one query; dns_no_sync=on sends one each', async () => {
    dns.set('shared.test', { A: ['127.0.0.4'] })
    dns.delay(100)
    try {
      const c = client()
      const all = await Promise.all(Array.from({ length: 20 }, () => c.resolve('shared.test')))
      assert.ok(all.every((r) => r.ok && r.address === '127.0.0.4'))
      assert.equal(dns.count('shared.test', 'SRV'), 1)
      assert.equal(dns.count('shared.test', 'A'), 1)

      dns.set('nosync.test', { A: ['127.0.0.5'] })
      const n = client({ noSync: true, order: ['A'] })
      const each = await Promise.all(Array.from({ length: 5 }, () => n.resolve('nosync.test')))
      assert.ok(each.every((r) => r.ok))
      assert.equal(dns.count('nosync.test', 'A'), 5)
    } finally {
      dns.delay(0)
    }
  })

  test('TTL expiry: an expired answer is served stale at once while one refresh fetches the new one', async () => {
    dns.set('ttl.test', { A: ['127.0.0.10'], ttl: 1 })
    const c = client({ order: ['A'] })
    assert.equal((await ok(c.resolve('ttl.test'))).address, '127.0.0.10')
    dns.set('ttl.test', { A: ['127.0.0.11'], ttl: 1 })
    // Within the TTL: still the cached answer, no question.
    assert.equal((c.resolve('ttl.test') as ResolvedAddress).address, '127.0.0.10')
    assert.equal(dns.count('ttl.test'), 1)
    await sleep(1100)
    const stale = c.resolve('ttl.test')
    assert.ok(!(stale instanceof Promise), 'a stale answer does not make the caller wait')
    assert.equal((stale as ResolvedAddress).address, '127.0.0.10')
    assert.equal((stale as ResolvedAddress).stale, true)
    // More callers during the refresh: still stale, still one question.
    assert.equal((c.resolve('ttl.test') as ResolvedAddress).address, '127.0.0.10')
    await until(() => dns.count('ttl.test') === 2, 2000, 'the refresh')
    await until(() => (c.resolve('ttl.test') as ResolvedAddress).address === '127.0.0.11', 2000, 'the refreshed answer')
    const fresh = c.resolve('ttl.test') as ResolvedAddress
    assert.equal(fresh.stale, false)
    assert.equal(dns.count('ttl.test'), 2)
  })

  test('dns_valid_ttl overrides the record TTL', async () => {
    dns.set('valid.test', { A: ['127.0.0.12'], ttl: 1 })
    const c = client({ order: ['A'], validTtl: 30 })
    assert.equal((await ok(c.resolve('valid.test'))).ttl, 30)
    await sleep(1100)
    const r = c.resolve('valid.test') as ResolvedAddress
    assert.equal(r.stale, false)
    assert.equal(dns.count('valid.test'), 1)
  })

  test('stale serving: the server stops answering, the stale answer is used and the refresh retried', async () => {
    dns.set('dead.test', { A: ['127.0.0.13'], ttl: 1 })
    const c = client({ order: ['A'], timeoutMs: 200, attempts: 1 })
    await ok(c.resolve('dead.test'))
    dns.silent(true)
    try {
      await sleep(1100)
      // Every request is answered at once with the stale address; while a refresh is in flight
      // no other is sent; once it failed (timed out), the next request starts another one.
      let answered = 0
      const started = Date.now()
      while (dns.count('dead.test') < 4 && Date.now() - started < 5000) {
        const r = c.resolve('dead.test')
        assert.ok(!(r instanceof Promise))
        assert.equal((r as ResolvedAddress).address, '127.0.0.13')
        assert.equal((r as ResolvedAddress).stale, true)
        answered++
        await sleep(20)
      }
      assert.equal(dns.count('dead.test'), 4, 'three refreshes, one after the other')
      const gaps = dns.queries
        .filter((q) => q.name === 'dead.test')
        .slice(1)
        .map((q, i, a) => (i === 0 ? 0 : q.at - (a[i - 1] as { at: number }).at))
      assert.ok(
        gaps.slice(1).every((g) => g >= 150),
        `refreshes are not sent while one is in flight: ${gaps.join(', ')} ms apart`,
      )
      assert.ok(answered > 4)
      dns.set('dead.test', { A: ['127.0.0.14'], ttl: 60 })
      dns.silent(false)
      assert.equal((c.resolve('dead.test') as ResolvedAddress).address, '127.0.0.13')
      await until(() => (c.resolve('dead.test') as ResolvedAddress).address === '127.0.0.14', 2000, 'recovery')
      assert.equal((c.resolve('dead.test') as ResolvedAddress).stale, false)
    } finally {
      dns.silent(false)
    }
  })

  test('stale data expires after dns_stale_ttl: then the caller waits for the query', async () => {
    dns.set('stalettl.test', { A: ['127.0.0.15'], ttl: 1 })
    const c = client({ order: ['A'], staleTtl: 0.2 })
    await ok(c.resolve('stalettl.test'))
    await sleep(1300)
    const r = c.resolve('stalettl.test')
    assert.ok(r instanceof Promise, 'past ttl + stale_ttl the entry is gone')
    assert.equal((await ok(r)).stale, false)
  })

  test("NXDOMAIN: Kong's message and try list with every type tried, the nameserver named, cached for dns_not_found_ttl", async () => {
    const c = client({ notFoundTtl: 30 })
    const f = await failed(c.resolve('nx.test'))
    assert.equal(f.message, 'dns server error: 3 name error')
    assert.equal(f.code, 'NXDOMAIN')
    assert.equal(f.notFound, true)
    assert.equal(f.nameservers, dns.address)
    assert.equal(
      f.tried,
      '["nx.test:33 - cache-miss/querying/dns server error: 3 name error",' +
        '"nx.test:1 - cache-miss/querying/dns server error: 3 name error",' +
        '"nx.test:5 - cache-miss/querying/dns server error: 3 name error"]',
    )
    assert.equal(dns.count('nx.test'), 3)
    const again = c.resolve('nx.test')
    assert.ok(!(again instanceof Promise), 'a cached failure is synchronous')
    assert.match((again as ResolveFailure).tried, /nx\.test:33 - cache-hit\/dns server error: 3 name error/)
    assert.equal(dns.count('nx.test'), 3)
  })

  test('a name that exists without the types tried: empty record received (also a 503 for Kong)', async () => {
    dns.set('v6.test', { AAAA: ['::1'] })
    const f = await failed(client().resolve('v6.test'))
    assert.equal(f.message, 'dns client error: 101 empty record received')
    assert.equal(f.notFound, true)
    // With AAAA in dns_order the same name resolves.
    const r = await ok(client({ order: ['LAST', 'SRV', 'A', 'AAAA', 'CNAME'] }).resolve('v6.test'))
    assert.equal(r.address, '::1')
    assert.equal(r.type, 'AAAA')
  })

  test('SERVFAIL: dns server error 2, not a not-found (Kong answers 500), cached for dns_error_ttl', async () => {
    dns.set('sf.test', { rcode: 'SERVFAIL' })
    const c = client({ errorTtl: 1 })
    const f = await failed(c.resolve('sf.test'))
    assert.equal(f.message, 'dns server error: 2 server failure')
    assert.equal(f.code, 'SERVFAIL')
    assert.equal(f.notFound, false)
    const n = dns.count('sf.test')
    assert.ok(!(c.resolve('sf.test') instanceof Promise))
    assert.equal(dns.count('sf.test'), n)
    await sleep(1100)
    // Expired error answers are served while refreshed, as Kong does.
    void c.resolve('sf.test')
    await until(() => dns.count('sf.test') > n, 2000, 'the error refresh')
  })

  test("timeout with nothing cached: Kong's UDP error naming the server, and no other type is tried", async () => {
    dns.set('slow.test', { A: ['127.0.0.16'] })
    dns.silent(true)
    try {
      const c = client({ timeoutMs: 150, attempts: 2 })
      const started = Date.now()
      const f = await failed(c.resolve('slow.test'))
      assert.ok(Date.now() - started >= 250, 'both tries waited for their timeout')
      assert.equal(f.message, `failed to receive reply from UDP server ${dns.address}: timeout`)
      assert.equal(f.code, 'TIMEOUT')
      assert.equal(f.notFound, false)
      assert.equal(f.tried, `["slow.test:33 - cache-miss/querying/failed to receive reply from UDP server ${dns.address}: timeout"]`)
      assert.equal(dns.count('slow.test', 'A'), 0)
      assert.equal(dns.count('slow.test', 'SRV'), 2)
    } finally {
      dns.silent(false)
    }
  })

  test('a stale answer survives SERVFAIL refreshes but not a name error', async () => {
    dns.set('gone.test', { A: ['127.0.0.17'], ttl: 1 })
    const c = client({ order: ['A'] })
    await ok(c.resolve('gone.test'))
    dns.set('gone.test', { rcode: 'SERVFAIL' })
    await sleep(1100)
    assert.equal((c.resolve('gone.test') as ResolvedAddress).address, '127.0.0.17')
    await until(() => dns.count('gone.test') === 2, 2000, 'refresh 1')
    await sleep(50)
    assert.equal((c.resolve('gone.test') as ResolvedAddress).address, '127.0.0.17', 'SERVFAIL keeps the stale data')
    dns.remove('gone.test')
    await until(() => dns.count('gone.test') === 3, 2000, 'refresh 2')
    await until(() => !(c.resolve('gone.test') as ResolveAnswer).ok, 2000, 'the name error to replace the data')
    assert.equal((c.resolve('gone.test') as ResolveFailure).message, 'dns server error: 3 name error')
  })

  test('SRV: port and weight from the record, address from the target, weighted rotation', async () => {
    dns.set('web.srv.test', {
      SRV: [
        { target: 'big.test', port: 8001, weight: 30 },
        { target: 'small.test', port: 8002, weight: 10 },
      ],
    })
    dns.set('big.test', { A: ['127.0.0.21'], ttl: 40 })
    dns.set('small.test', { A: ['127.0.0.22'], ttl: 20 })
    const c = client()
    const first = await ok(c.resolve('web.srv.test'))
    assert.equal(first.type, 'SRV')
    assert.equal(first.source, dns.address)
    // node's c-ares gives no SRV TTL: the targets' smallest TTL is used.
    assert.equal(first.ttl, 20)
    const picks = [first]
    for (let i = 0; i < 7; i++) picks.push(await ok(c.resolve('web.srv.test')))
    const big = picks.filter((p) => p.address === '127.0.0.21')
    const small = picks.filter((p) => p.address === '127.0.0.22')
    assert.equal(big.length, 6)
    assert.equal(small.length, 2)
    assert.ok(big.every((p) => p.port === 8001 && p.weight === 30))
    assert.ok(small.every((p) => p.port === 8002 && p.weight === 10))
    // lookup() gives every record for a balancer.
    const set = await c.lookup('web.srv.test')
    assert.ok(set.ok)
    assert.deepEqual(
      set.records.map((r) => [r.target, r.port, r.weight, r.priority]),
      [
        ['big.test', 8001, 30, 10],
        ['small.test', 8002, 10, 10],
      ],
    )
    // Only the lowest priority group is used.
    dns.set('prio.srv.test', {
      SRV: [
        { target: '127.0.0.31', port: 9001, priority: 20 },
        { target: '127.0.0.32', port: 9002, priority: 10 },
      ],
    })
    for (let i = 0; i < 3; i++) assert.equal((await ok(c.resolve('prio.srv.test'))).address, '127.0.0.32')
  })

  test('dns_order: the first type in the order wins; LAST asks the type that worked first next time', async () => {
    dns.set('both.test', { A: ['127.0.0.41'], SRV: [{ target: '127.0.0.42', port: 7000 }], ttl: 1 })
    assert.equal((await ok(client().resolve('both.test'))).type, 'SRV')
    const aFirst = await ok(client({ order: ['A', 'SRV'] }).resolve('both.test'))
    assert.equal(aFirst.type, 'A')
    assert.equal(aFirst.address, '127.0.0.41')

    dns.set('last.test', { A: ['127.0.0.43'], ttl: 1 })
    const c = client({ staleTtl: 0 })
    await ok(c.resolve('last.test'))
    const before = dns.queries.length
    await sleep(1100)
    // Entry gone (stale_ttl 0): LAST=A is asked first, and nothing else is needed.
    await ok(c.resolve('last.test'))
    const asked = dns.queries
      .slice(before)
      .filter((q) => q.name === 'last.test')
      .map((q) => q.type)
    assert.deepEqual(asked, ['A'])
  })

  test('hosts file answers first (never queried); IP literals are never queried', async () => {
    dns.set('hosted.test', { A: ['127.0.0.50'] })
    const c = client()
    const r = c.resolve('hosted.test')
    assert.ok(!(r instanceof Promise))
    assert.equal((r as ResolvedAddress).address, '127.0.0.9')
    assert.equal((r as ResolvedAddress).source, `hosts file ${hostsFile}`)
    assert.equal((c.resolve('localhost') as ResolvedAddress).address, '127.0.0.1')
    assert.equal((c.resolve('v6only.test') as ResolvedAddress).address, '::9')
    for (const ip of ['127.0.0.8', '::1', '[::1]']) {
      const lit = c.resolve(ip)
      assert.ok(!(lit instanceof Promise))
      assert.equal((lit as ResolvedAddress).source, 'ip literal')
    }
    assert.equal(dns.count('hosted.test'), 0)
    assert.equal(dns.queries.filter((q) => q.name === '127.0.0.8' || q.name.includes('::')).length, 0)
  })

  test("CNAME: an alias resolves to its target's addresses", async () => {
    dns.set('alias.test', { CNAME: 'real.test' })
    dns.set('real.test', { A: ['127.0.0.61'] })
    const r = await ok(client().resolve('alias.test'))
    assert.equal(r.address, '127.0.0.61')
    // A CNAME whose target has no A record but the order reaches CNAME: dereferenced and tried again.
    dns.set('alias6.test', { CNAME: 'real6.test' })
    dns.set('real6.test', { AAAA: ['::2'] })
    const r6 = await ok(client({ order: ['A', 'CNAME', 'AAAA'] }).resolve('alias6.test'))
    assert.equal(r6.address, '::2')
  })

  test('search domains from resolv.conf (ndots): a short name is tried with each search domain first', async () => {
    const conf = join(dir, 'resolv-search.conf')
    writeFileSync(conf, 'nameserver 127.0.0.1\nsearch svc.test\noptions ndots:1 timeout:1 attempts:1\n')
    dns.set('api.svc.test', { A: ['127.0.0.71'] })
    const c = client({ resolvConf: conf, order: ['A'] })
    const r = await ok(c.resolve('api'))
    assert.equal(r.address, '127.0.0.71')
    assert.equal(dns.count('api'), 0, 'the bare short name was not needed')
  })

  test('the cache is bounded by dns_cache_size', async () => {
    const c = client({ cacheSize: 2, order: ['A'] })
    for (const n of ['c1', 'c2', 'c3']) dns.set(`${n}.test`, { A: ['127.0.0.81'] })
    for (const n of ['c1', 'c2', 'c3']) await ok(c.resolve(`${n}.test`))
    assert.ok(c.resolve('c3.test') instanceof Promise === false)
    assert.ok(c.resolve('c1.test') instanceof Promise, 'the least recently used entry was evicted')
  })
})
