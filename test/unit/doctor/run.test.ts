/**
 * One doctor run in-process against real sockets on 127.0.0.1: the services' order, the scope
 * (one service, a route, route checks only), and unknown names.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:net'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { DoctorNotFound, runDoctor, type DoctorDeps } from '../../../src/doctor/doctor.js'
import { doctorOptions } from '../../../src/doctor/report.js'
import type { Route, Service } from '../../../src/entities/index.js'
import type { ConfigPayload } from '../../../src/snapshot/snapshot.js'
import { NO_TRUST } from '../../../src/snapshot/upstream-tls.js'
import { closedPort } from '../../helpers/ports.js'

let server: Server
let open = 0
let closed = 0

function service(id: string, name: string, port: number): Service {
  return {
    id,
    name,
    protocol: 'http',
    host: '127.0.0.1',
    port,
    path: null,
    connect_timeout: 1000,
    read_timeout: 1000,
    write_timeout: 1000,
    retries: 0,
    enabled: true,
  } as unknown as Service
}

before(async () => {
  // Answers every request with a 200 and closes the connection.
  server = createServer((socket) => {
    socket.on('error', () => {})
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  open = (server.address() as AddressInfo).port
  closed = await closedPort()
})
after(() => new Promise<void>((r) => server.close(() => r())))

function deps(payload: ConfigPayload): DoctorDeps {
  return {
    nodeId: 'node-1',
    payload: () => payload,
    health: {
      nodeId: 'node-1',
      ready: async () => {},
      targetsHealth: async () => null,
      balancerHealth: async () => null,
      setHealth: async () => null,
    },
    dns: { nameservers: ['127.0.0.1:1'] },
    trust: () => NO_TRUST,
    tlsProtocols: ['TLSv1.2', 'TLSv1.3'],
    keepalive: { idleTimeout: 60, poolSize: 512 },
    listeners: { protocols: new Set(['http']) },
  }
}

describe('runDoctor', () => {
  const opts = doctorOptions(new URLSearchParams('keepalive_wait=0'))
  const payload = (): ConfigPayload => ({
    version: 1,
    services: [service('s1', 'up', open), service('s2', 'down', closed)],
    routes: [
      {
        id: 'r1',
        name: 'to-down',
        service: { id: 's2' },
        protocols: ['http'],
        paths: ['/down'],
        methods: null,
        hosts: null,
        headers: null,
        snis: null,
        sources: null,
        destinations: null,
        strip_path: true,
        preserve_host: false,
        regex_priority: 0,
        path_handling: 'v0',
        https_redirect_status_code: 426,
        request_buffering: true,
        response_buffering: true,
        tags: null,
        created_at: 1,
        updated_at: 1,
      } as unknown as Route,
    ],
  })

  test('every service, in configuration order, with the worst status on top', async () => {
    const r = await runDoctor(deps(payload()), undefined, opts)
    assert.deepEqual(
      r.services.map((s) => [s.name, s.status]),
      [
        ['up', 'ok'],
        ['down', 'error'],
      ],
    )
    assert.equal(r.status, 'error')
    assert.equal(r.node_id, 'node-1')
    const up = r.services[0]?.findings.map((f) => f.check)
    assert.deepEqual(up, ['dns', 'tcp', 'http', 'keepalive'])
    assert.match(r.services[0]?.findings[3]?.summary ?? '', /Connection: close/)
  })

  test('scope: one service by name or id, a route, route checks only', async () => {
    assert.deepEqual(
      (await runDoctor(deps(payload()), 'up', opts)).services.map((s) => s.id),
      ['s1'],
    )
    assert.deepEqual(
      (await runDoctor(deps(payload()), 's2', opts)).services.map((s) => s.id),
      ['s2'],
    )
    const byRoute = await runDoctor(deps(payload()), undefined, doctorOptions(new URLSearchParams('route=to-down&keepalive_wait=0')))
    assert.deepEqual(
      byRoute.services.map((s) => s.id),
      ['s2'],
    )
    const routesOnly = await runDoctor(deps(payload()), undefined, doctorOptions(new URLSearchParams('checks=routes')))
    assert.deepEqual(routesOnly.services, [])
    assert.equal(routesOnly.status, 'ok')
  })

  test('unknown service or route', async () => {
    await assert.rejects(runDoctor(deps(payload()), 'nope', opts), DoctorNotFound)
    await assert.rejects(runDoctor(deps(payload()), undefined, doctorOptions(new URLSearchParams('route=nope'))), DoctorNotFound)
  })
})
