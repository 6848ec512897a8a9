/**
 * The per-service memory of upstream targets (one per resolved address): reused while the address
 * is the same, bounded when a DNS name keeps answering with new addresses.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Address, BalancerTarget } from '../../../src/balancer/balancer.js'
import { peerTarget, serviceTarget } from '../../../src/proxy/upstream-attempt.js'
import type { CompiledService } from '../../../src/snapshot/snapshot.js'
import { targetRow, upstreamRow } from '../../helpers/entity-rows.js'

function service(): CompiledService {
  return {
    protocol: 'http',
    host: 'api.internal',
    port: 8080,
    connect_timeout: 60000,
    read_timeout: 60000,
    write_timeout: 60000,
    tls_verify: false,
    sni: 'api.internal',
    targets: new Map(),
    peerTargets: new WeakMap(),
  } as unknown as CompiledService
}

test('a target is built once per address and reused', () => {
  const s = service()
  const t = serviceTarget(s, '10.0.0.1')
  assert.equal(serviceTarget(s, '10.0.0.1'), t)
  assert.deepEqual(
    { address: t.address, port: t.port, hostname: t.hostname, scheme: t.scheme, servername: t.servername },
    { address: '10.0.0.1', port: 8080, hostname: 'api.internal', scheme: 'http', servername: 'api.internal' },
  )
  assert.notEqual(serviceTarget(s, '10.0.0.2'), t)
  assert.equal(s.targets.size, 2)
})

test('addresses that keep changing do not pile up', () => {
  const s = service()
  for (let i = 0; i < 10_000; i++) serviceTarget(s, `10.0.${i >> 8}.${i & 255}`)
  assert.ok(s.targets.size <= 64, `${s.targets.size} targets kept`)
  const latest = serviceTarget(s, '10.0.39.15')
  assert.equal(latest.address, '10.0.39.15')
  assert.equal(serviceTarget(s, '10.0.39.15'), latest)
})

test('a balancer address gets one target per service, rebuilt only when the SNI differs', () => {
  const s = service()
  const bt = new BalancerTarget(targetRow(upstreamRow({ name: 'backend.pool' }), 'backend.internal:9000'))
  const peer = new Address('10.1.0.7', 9000, 100, bt)
  const t = peerTarget(s, peer, 'backend.internal')
  assert.deepEqual(
    { address: t.address, port: t.port, hostname: t.hostname, servername: t.servername, readTimeout: t.readTimeout },
    { address: '10.1.0.7', port: 9000, hostname: 'backend.internal', servername: 'backend.internal', readTimeout: 60000 },
  )
  assert.equal(peerTarget(s, peer, 'backend.internal'), t, 'the same object: its pool is found without a key')
  const preserved = peerTarget(s, peer, 'client.example')
  assert.equal(preserved.servername, 'client.example')
  assert.notEqual(preserved, t)
  // Another service sharing the upstream has its own timeouts, hence its own target.
  const other = { ...service(), read_timeout: 5000, peerTargets: new WeakMap() } as unknown as CompiledService
  assert.equal(peerTarget(other, peer, 'backend.internal').readTimeout, 5000)
})
