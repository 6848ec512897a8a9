/**
 * The per-service memory of upstream targets (one per resolved address): reused while the address
 * is the same, bounded when a DNS name keeps answering with new addresses.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { serviceTarget } from '../../../src/proxy/runloop.js'
import type { CompiledService } from '../../../src/snapshot/snapshot.js'

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
