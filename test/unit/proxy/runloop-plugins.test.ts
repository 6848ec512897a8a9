/**
 * The plugin phases as the runloop runs them, without sockets: access may exit (the upstream is
 * never asked), header_filter / body_filter / log run in order over the collected instances, an
 * async handler resumes its phase, a handler that throws gets Kong's 500, rewrite runs before
 * routing.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { PluginRow } from '../../../src/plugins/entity.js'
import type { Pdk } from '../../../src/pdk/types.js'
import { PluginRegistry } from '../../../src/plugins/registry.js'
import type { AnyPlugin } from '../../../src/plugins/types.js'
import { buildSnapshot } from '../../../src/snapshot/snapshot.js'
import { MemoryUpstream, makeProxy, ROUTE_ID, routeRow as route, serviceRow as svc } from '../../helpers/in-memory-edge.js'

/** Plugins that write what they see to `trace`, as `<plugin>:<phase>[:detail]`. */
function tracer(trace: string[], name: string, priority: number, extra: Partial<AnyPlugin> = {}): AnyPlugin {
  return {
    name,
    version: '1.0.0',
    priority,
    schema: { config: {} },
    access() {
      trace.push(`${name}:access`)
    },
    headerFilter(kong: Pdk) {
      trace.push(`${name}:header_filter:${kong.response.getStatus()}`)
    },
    bodyFilter(_kong: Pdk, _conf: unknown, chunk: Buffer, eof: boolean) {
      trace.push(`${name}:body_filter:${chunk.toString()}:${eof}`)
      return undefined
    },
    log() {
      trace.push(`${name}:log`)
    },
    ...extra,
  }
}

let n = 0
const instance = (name: string, scope: Partial<PluginRow> = { route: { id: ROUTE_ID } }): PluginRow => ({
  id: `p${++n}`,
  name,
  instance_name: null,
  created_at: 1,
  updated_at: 1,
  enabled: true,
  protocols: ['http', 'https'],
  route: null,
  service: null,
  consumer: null,
  config: {},
  tags: null,
  ordering: null,
  ...scope,
})

function gateway(plugins: AnyPlugin[], rows: PluginRow[], upstream: MemoryUpstream) {
  const snapshot = buildSnapshot(
    { version: 1, services: [svc()], routes: [route()], plugins: rows },
    { registry: new PluginRegistry(plugins), entities: [] },
  )
  return makeProxy(snapshot, upstream)
}

const afterLog = (): Promise<void> => new Promise((r) => setImmediate(r))

describe('plugin phases', () => {
  test('an exit in access: the upstream is never asked; later access handlers skipped, response phases run', async () => {
    const trace: string[] = []
    const gw = gateway(
      [
        tracer(trace, 'guard', 2000, {
          access(kong: Pdk) {
            trace.push('guard:access')
            kong.response.exit(403, { message: 'go away' }, { 'X-Guard': '1' })
          },
        }),
        tracer(trace, 'after', 1000),
      ],
      [instance('guard'), instance('after')],
      new MemoryUpstream({ status: 200 }),
    )
    const d = await gw.request({ url: '/orders' })
    await afterLog()
    assert.equal(gw.upstream.sent.length, 0)
    assert.equal(d.status, 403)
    assert.deepEqual(JSON.parse(d.text), { message: 'go away' })
    assert.equal(d.header('x-guard'), '1')
    assert.deepEqual(trace, [
      'guard:access',
      'guard:header_filter:403',
      'after:header_filter:403',
      'guard:body_filter:{"message":"go away"}:true',
      'after:body_filter:{"message":"go away"}:true',
      'guard:log',
      'after:log',
    ])
  })

  test('a proxied response: header_filter, then body_filter per chunk and at the end, then log', async () => {
    const trace: string[] = []
    const gw = gateway(
      [tracer(trace, 'a', 2000), tracer(trace, 'b', 1000)],
      [instance('a'), instance('b')],
      new MemoryUpstream({ status: 200, body: ['one', 'two'] }),
    )
    const d = await gw.request({ url: '/orders' })
    assert.equal(trace.includes('a:log'), false, 'log runs after the response, off its path')
    await afterLog()
    assert.equal(d.text, 'onetwo')
    assert.deepEqual(trace, [
      'a:access',
      'b:access',
      'a:header_filter:200',
      'b:header_filter:200',
      'a:body_filter:one:false',
      'b:body_filter:one:false',
      'a:body_filter:two:false',
      'b:body_filter:two:false',
      'a:body_filter::true',
      'b:body_filter::true',
      'a:log',
      'b:log',
    ])
  })

  test('body_filter replaces chunks; header_filter changes the status and headers the client gets', async () => {
    const gw = gateway(
      [
        {
          name: 'shout',
          version: '1.0.0',
          priority: 10,
          schema: { config: {} },
          headerFilter(kong: Pdk) {
            kong.response.setHeader('X-Shout', 'on')
            kong.response.clearHeader('Content-Length')
          },
          bodyFilter(_kong: Pdk, _conf: unknown, chunk: Buffer) {
            return Buffer.from(chunk.toString().toUpperCase())
          },
        },
      ],
      [instance('shout')],
      new MemoryUpstream({ status: 200, body: ['quiet ', 'please'] }),
    )
    const d = await gw.request({ url: '/orders' })
    assert.equal(d.text, 'QUIET PLEASE')
    assert.equal(d.header('x-shout'), 'on')
  })

  test('an async access handler: its phase resumes once it settles, with what it set', async () => {
    const trace: string[] = []
    const gw = gateway(
      [
        tracer(trace, 'slow', 2000, {
          async access(kong: Pdk) {
            await new Promise((r) => setTimeout(r, 5))
            kong.service.request.setHeader('X-Checked', 'yes')
            trace.push('slow:access')
          },
        }),
        tracer(trace, 'next', 1000),
      ],
      [instance('slow'), instance('next')],
      new MemoryUpstream({ status: 204 }),
    )
    const d = await gw.request({ url: '/orders' })
    assert.equal(d.status, 204)
    assert.deepEqual(trace.slice(0, 2), ['slow:access', 'next:access'])
    const h = gw.upstream.sent[0]?.request.headers ?? []
    assert.equal(h[h.findIndex((x) => x.toLowerCase() === 'x-checked') + 1], 'yes')
  })

  test("a handler that throws in access: Kong's 500, the upstream not asked, the log names the plugin", async () => {
    const trace: string[] = []
    const gw = gateway(
      [
        tracer(trace, 'boom', 1000, {
          access() {
            throw new Error('kaput')
          },
        }),
      ],
      [instance('boom')],
      new MemoryUpstream({ status: 200 }),
    )
    const d = await gw.request({ url: '/orders' })
    assert.equal(d.status, 500)
    assert.equal(JSON.parse(d.text).message, 'An unexpected error occurred')
    assert.equal(gw.upstream.sent.length, 0)
    assert.match(gw.errorLog.lines[0] ?? '', /plugin "boom" \(instance p\d+\) failed in the access phase on route "orders-route": kaput/)
  })

  test('a global rewrite handler runs before routing, even when no route matches', async () => {
    const trace: string[] = []
    const gw = gateway(
      [
        tracer(trace, 'early', 3000, {
          rewrite() {
            trace.push('early:rewrite')
          },
        }),
      ],
      [instance('early', {})],
      new MemoryUpstream({ status: 200 }),
    )
    const d = await gw.request({ url: '/nowhere' })
    await afterLog()
    assert.equal(d.status, 404)
    assert.deepEqual(trace, ['early:rewrite', 'early:header_filter:404', 'early:body_filter:' + d.text + ':true', 'early:log'])
  })
})
