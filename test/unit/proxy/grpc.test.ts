/**
 * Kong's HTTP status → grpc-status mapping (kong/pdk/response.lua) and the gRPC route checks of
 * its runloop (426 / 415 / grpcs over plain), on plain values.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { grpcRouteCheck, grpcSend, grpcStatusOf } from '../../../src/proxy/grpc.js'
import type { Downstream, ResponseHeaders } from '../../../src/proxy/types.js'

function downstream(httpVersion: string, contentType?: string): Downstream {
  return { httpVersion, headers: contentType === undefined ? {} : { 'content-type': contentType } } as unknown as Downstream
}

describe('gRPC', () => {
  test("grpcStatusOf: Kong's table, then by class, else Unknown", () => {
    const table: [number, number][] = [
      [200, 0],
      [400, 3],
      [401, 16],
      [403, 7],
      [404, 5],
      [409, 6],
      [429, 8],
      [499, 1],
      [500, 13],
      [501, 12],
      [503, 14],
      [504, 4],
      [502, 13],
      [418, 3],
      [204, 0],
      [302, 2],
    ]
    for (const [http, grpc] of table) assert.equal(grpcStatusOf(http), grpc, String(http))
  })

  test('route checks: HTTP/2 required, gRPC content type required, grpcs-only over plain', () => {
    const grpc = downstream('2.0', 'application/grpc+proto')
    assert.equal(grpcRouteCheck(['http', 'https'], grpc, 'http'), null)
    assert.equal(grpcRouteCheck(['grpc', 'grpcs'], grpc, 'http'), null)
    assert.equal(grpcRouteCheck(['grpc', 'grpcs'], downstream('1.1', 'application/grpc'), 'http'), 'http2')
    assert.equal(grpcRouteCheck(['grpc'], downstream('2.0', 'application/json'), 'http'), 'type')
    assert.equal(grpcRouteCheck(['grpc'], downstream('1.1'), 'http'), 'type')
    assert.equal(grpcRouteCheck(['grpcs'], grpc, 'http'), 'tls')
    assert.equal(grpcRouteCheck(['grpcs'], grpc, 'https'), null)
  })

  test('grpcSend: a message goes in grpc-message, the body goes; an existing grpc-status stays', () => {
    const h: ResponseHeaders = {}
    assert.deepEqual(grpcSend(downstream('2.0', 'application/grpc'), 403, h, { message: 'go away' }), { body: null })
    assert.deepEqual(h, { 'grpc-status': '7', 'content-length': '0', 'grpc-message': 'go away' })
    const none: ResponseHeaders = {}
    assert.deepEqual(grpcSend(downstream('2.0', 'application/grpc'), 503, none, null), { body: null })
    assert.deepEqual(none, { 'grpc-status': '14', 'grpc-message': 'Unavailable' })
    const kept: ResponseHeaders = { 'content-type': 'application/grpc', 'grpc-status': '1', 'grpc-message': 'x' }
    assert.deepEqual(grpcSend(downstream('2.0', 'application/grpc'), 200, kept, null), { body: null })
    assert.equal(kept['grpc-status'], '1')
    // Not gRPC: the caller answers as for HTTP.
    assert.equal(grpcSend(downstream('1.1', 'application/grpc'), 403, {}, { message: 'm' }), null)
    assert.equal(grpcSend(downstream('2.0', 'application/grpc'), 403, { 'content-type': 'text/plain' }, 'm'), null)
  })
})
