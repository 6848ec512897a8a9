/**
 * Content-Type and Accept sent twice, where the gateway itself reads them (issue 18), over raw
 * sockets against the real gateway. What Kong 3.9.3 does, read in its code:
 *
 * - Admin API (kong/api/api_helpers.lua `before_filter`): `self.req.headers["content-type"]` is a
 *   table for a repeated header and `string.sub` on it raises, so Kong answers 500 `An unexpected
 *   error occurred`. Turnpike never answers 500 to input: it refuses with the 415 (no body) Kong
 *   gives a Content-Type it does not take.
 * - kong.response.error (404 no route, kong/pdk/response.lua): `ngx.req.get_headers()["Accept"]`,
 *   a table joined with "," by kong/tools/http.lua `get_response_type`: every value negotiates.
 * - the nginx error handler (502, kong/error_handlers.lua): `kong.request.get_header("Accept")`,
 *   the first value of a repeated header (kong/tools/http.lua `get_header`).
 * - plugins reading the body (request-transformer's access.lua, kong.request.get_body): the
 *   Content-Type from `kong.request.get_header`, the first value.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { closedPort } from '../../helpers/ports.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'
import { admin, rawRequest, rawText, settle } from './helpers.js'

describe('repeated Content-Type and Accept in what the gateway reads itself', () => {
  let gw: TestGateway
  let up: TestUpstream

  before(async () => {
    up = await startUpstream()
    gw = await startTestGateway()
    await admin(gw, '/services', { name: 'echo', url: up.url })
    await admin(gw, '/services/echo/routes', { name: 'rt', paths: ['/rt'] })
    await admin(gw, '/routes/rt/plugins', { name: 'request-transformer', config: { add: { body: ['added:yes'] } } })
    await admin(gw, '/services', { name: 'down', url: `http://127.0.0.1:${await closedPort()}`, retries: 0 })
    await admin(gw, '/services/down/routes', { paths: ['/down'] })
    await settle(gw)
  })

  after(async () => {
    await gw?.stop()
    await up?.close()
  })

  test('Admin API: a POST with two Content-Type headers is 415 (Kong: a Lua error, 500), nothing created', async () => {
    const body = JSON.stringify({ name: 'twice', url: 'http://127.0.0.1:9' })
    for (const types of [
      ['application/json', 'application/json'],
      ['application/json', 'text/plain'],
      ['application/x-www-form-urlencoded', 'application/json'],
    ]) {
      const res = await rawRequest(
        gw.adminPort,
        rawText(
          'POST',
          '/services',
          [
            ['Host', 'admin.test'],
            ['Content-Type', types[0] as string],
            ['Content-Type', types[1] as string],
            ['Content-Length', String(Buffer.byteLength(body))],
            ['Connection', 'close'],
          ],
          '1.1',
          body,
        ),
      )
      assert.equal(res.status, 415, types.join(' + '))
      // as Kong's `kong.response.exit(415)` for a Content-Type it does not take: no body
      assert.equal(res.body.length, 0)
    }
    const check = await rawRequest(
      gw.adminPort,
      rawText('GET', '/services/twice', [
        ['Host', 'a'],
        ['Connection', 'close'],
      ]),
    )
    assert.equal(check.status, 404)
    // a GET carries no body: a repeated Content-Type is not looked at (Kong's before_filter: POST/PUT/PATCH only)
    const get = await rawRequest(
      gw.adminPort,
      rawText('GET', '/services', [
        ['Host', 'a'],
        ['Content-Type', 'application/json'],
        ['Content-Type', 'text/plain'],
        ['Connection', 'close'],
      ]),
    )
    assert.equal(get.status, 200)
  })

  test('404 no route (kong.response.error): every Accept value negotiates, the best quality wins', async () => {
    const cases: ReadonlyArray<readonly [string, string, string]> = [
      ['text/plain;q=0.5', 'application/xml', 'application/xml; charset=utf-8'],
      ['text/html', 'application/json', 'text/html; charset=utf-8'],
      ['application/json;q=0.2', 'text/plain;q=0.9', 'text/plain; charset=utf-8'],
    ]
    for (const [a, b, type] of cases) {
      const res = await rawRequest(
        gw.proxyPort,
        rawText('GET', '/nowhere', [
          ['Host', 'x.test'],
          ['Accept', a],
          ['Accept', b],
          ['Connection', 'close'],
        ]),
      )
      assert.equal(res.status, 404)
      assert.equal(res.headers['content-type'], type, `${a} + ${b}`)
      assert.match(res.body.toString(), /no Route matched with those values/)
    }
  })

  test('502 (the nginx error handler): only the first Accept counts; a repeated Content-Type, its first', async () => {
    const cases: ReadonlyArray<readonly [ReadonlyArray<readonly [string, string]>, string]> = [
      [
        [
          ['Accept', 'text/plain;q=0.5'],
          ['Accept', 'application/xml'],
        ],
        'text/plain; charset=utf-8',
      ],
      [
        [
          ['Accept', 'text/html'],
          ['Accept', 'application/json'],
        ],
        'text/html; charset=utf-8',
      ],
      [
        [
          ['Content-Type', 'application/xml'],
          ['Content-Type', 'application/json'],
        ],
        'application/xml; charset=utf-8',
      ],
    ]
    for (const [headers, type] of cases) {
      const res = await rawRequest(gw.proxyPort, rawText('GET', '/down', [['Host', 'x.test'], ...headers, ['Connection', 'close']]))
      assert.equal(res.status, 502)
      assert.equal(res.headers['content-type'], type, JSON.stringify(headers))
      assert.match(res.body.toString(), /An invalid response was received from the upstream server/)
    }
  })

  test('request-transformer reads the body by the first Content-Type; both lines still go upstream', async () => {
    const send = (types: readonly [string, string]) => {
      const body = JSON.stringify({ a: 1 })
      return rawRequest(
        gw.proxyPort,
        rawText(
          'POST',
          '/rt',
          [
            ['Host', 'x.test'],
            ['Content-Type', types[0]],
            ['Content-Type', types[1]],
            ['Content-Length', String(Buffer.byteLength(body))],
            ['Connection', 'close'],
          ],
          '1.1',
          body,
        ),
      )
    }
    const json = await send(['application/json', 'text/plain'])
    assert.equal(json.status, 200)
    const echoed = up.received.at(-1)
    assert.deepEqual(JSON.parse(echoed?.body ?? ''), { a: 1, added: 'yes' }, 'transformed as JSON')
    assert.equal(echoed?.headers['content-type'], 'application/json', "node's first value upstream")

    const plain = await send(['text/plain', 'application/json'])
    assert.equal(plain.status, 200)
    assert.deepEqual(JSON.parse(up.received.at(-1)?.body ?? ''), { a: 1 }, 'not a body the plugin transforms')
  })
})
