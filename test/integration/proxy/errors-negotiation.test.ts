/**
 * Error bodies through the real proxy, byte for byte as Kong 3.9 renders them
 * (kong/tools/http.lua templates and `get_response_type`):
 * - errors Kong raises itself (`kong.response.error`: no route, 426 …) are negotiated on Accept,
 *   JSON by default;
 * - nginx-level errors (`/kong_error_handler`: 502 …) use Accept, else the request Content-Type,
 *   else `error_default_type` (default text/plain).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { closedPort } from '../../helpers/ports.js'
import { admin, rawRequest, rawText, settle, type RawResponse } from './helpers.js'

function html(message: string, id: string): string {
  return `<!doctype html>\n<html>\n  <head>\n    <meta charset="utf-8">\n    <title>Error</title>\n  </head>\n  <body>\n    <h1>Error</h1>\n    <p>${message}.</p>\n    <p>request_id: ${id}</p>\n  </body>\n</html>\n`
}
function json(message: string, id: string): string {
  return `{\n  "message":"${message}",\n  "request_id":"${id}"\n}`
}
function xml(message: string, id: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<error>\n  <message>${message}</message>\n  <requestid>${id}</requestid>\n</error>\n`
}
function plain(message: string, id: string): string {
  return `${message}\nrequest_id: ${id}\n`
}

type Kind = 'json' | 'html' | 'xml' | 'plain'
const RENDER: Record<Kind, (m: string, id: string) => string> = { json, html, xml, plain }
const CONTENT_TYPE: Record<Kind, string> = {
  json: 'application/json; charset=utf-8',
  html: 'text/html; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
  plain: 'text/plain; charset=utf-8',
}

function assertError(res: RawResponse, status: number, kind: Kind, message: string, what: string): void {
  assert.equal(res.status, status, what)
  const id = res.headers['x-kong-request-id'] ?? ''
  assert.match(id, /^[0-9a-f]{32}$/, what)
  assert.equal(res.headers['content-type'], CONTENT_TYPE[kind], what)
  assert.equal(res.body.toString(), RENDER[kind](message, id), what)
  assert.equal(res.headers['content-length'], String(res.body.length), what)
}

const NO_ROUTE = 'no Route matched with those values'
const BAD_GATEWAY = 'An invalid response was received from the upstream server'

/** [Accept header or null, expected type] for `kong.response.error` (Kong's get_response_type). */
const KONG_ACCEPT: ReadonlyArray<readonly [string | null, Kind]> = [
  [null, 'json'],
  ['*/*', 'json'],
  ['application/json', 'json'],
  ['text/html', 'html'],
  ['application/xml', 'xml'],
  ['text/plain', 'plain'],
  ['text/*', 'plain'],
  ['application/*', 'json'],
  ['image/png', 'json'], // an unknown type falls back to JSON
  ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'html'], // a browser
  ['text/html;q=0.5, application/xml', 'xml'], // the highest q wins
  ['application/xml;q=0.9, text/plain;q=0.9', 'xml'], // ties: the first one
  ['application/json;q=0, text/plain', 'plain'], // q=0 is never chosen
  ['text/plain;q=0.5, image/png', 'json'], // the unknown type has the higher q
  ['text/html; level=1; q=0.2, text/plain; q=0.3', 'plain'], // parameters before q
  ['Text/HTML', 'json'], // Kong's type lookup is case-sensitive
]

describe('error bodies and content negotiation', () => {
  let gw: TestGateway

  before(async () => {
    gw = await startTestGateway()
    const closed = await closedPort()
    await admin(gw, '/services', { name: 'down', url: `http://127.0.0.1:${closed}`, retries: 0 })
    await admin(gw, '/services/down/routes', { paths: ['/down'] })
    await admin(gw, '/routes', { name: 'tls-only', paths: ['/tls'], protocols: ['https'] })
    await settle(gw)
  })

  after(async () => {
    await gw?.stop()
  })

  test('kong.response.error (404 no route): negotiated on Accept, JSON by default', async () => {
    for (const [accept, kind] of KONG_ACCEPT) {
      const headers: Array<[string, string]> = [
        ['Host', 'x.test'],
        ['Connection', 'close'],
      ]
      if (accept !== null) headers.push(['Accept', accept])
      // A Content-Type does not matter to kong.response.error.
      headers.push(['Content-Type', 'text/html'])
      const res = await rawRequest(gw.proxyPort, rawText('GET', '/no/such/route', headers))
      assertError(res, 404, kind, NO_ROUTE, `Accept: ${accept ?? '(none)'}`)
    }
  })

  test('426 Please use HTTPS protocol is negotiated the same way', async () => {
    const res = await rawRequest(
      gw.proxyPort,
      rawText('GET', '/tls', [
        ['Host', 'x.test'],
        ['Accept', 'text/plain'],
        ['Connection', 'close'],
      ]),
    )
    assertError(res, 426, 'plain', 'Please use HTTPS protocol', '426')
  })

  test('nginx-level errors (502): Accept, else Content-Type, else error_default_type=text/plain', async () => {
    const cases: ReadonlyArray<readonly [string, ReadonlyArray<readonly [string, string]>, Kind]> = [
      ['neither', [], 'plain'],
      ['Content-Type json', [['Content-Type', 'application/json']], 'json'],
      ['Content-Type form', [['Content-Type', 'application/x-www-form-urlencoded']], 'json'],
      [
        'Accept html over Content-Type',
        [
          ['Accept', 'text/html'],
          ['Content-Type', 'application/json'],
        ],
        'html',
      ],
      ['Accept xml', [['Accept', 'application/xml']], 'xml'],
      ['browser Accept', [['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8']], 'html'],
      ['Accept */*', [['Accept', '*/*']], 'json'],
    ]
    for (const [what, headers, kind] of cases) {
      const res = await rawRequest(gw.proxyPort, rawText('GET', '/down', [['Host', 'x.test'], ['Connection', 'close'], ...headers]))
      assertError(res, 502, kind, BAD_GATEWAY, what)
    }
  })

  test('400 for a broken percent-encoding is an nginx error (text/plain by default)', async () => {
    const res = await rawRequest(
      gw.proxyPort,
      rawText('GET', '/down/%zz', [
        ['Host', 'x.test'],
        ['Connection', 'close'],
      ]),
    )
    assertError(res, 400, 'plain', 'Bad request', '400')
  })

  test('HEAD gets the headers of the error (Content-Length of the body) without the body', async () => {
    const res = await rawRequest(
      gw.proxyPort,
      rawText('HEAD', '/no/such/route', [
        ['Host', 'x.test'],
        ['Connection', 'close'],
      ]),
      { noBody: true },
    )
    assert.equal(res.status, 404)
    assert.equal(res.headers['content-type'], CONTENT_TYPE.json)
    assert.equal(res.headers['content-length'], String(json(NO_ROUTE, res.headers['x-kong-request-id'] ?? '').length))
    assert.equal(res.body.length, 0)
  })
})

describe('error_default_type=text/html', () => {
  let gw: TestGateway

  before(async () => {
    gw = await startTestGateway({ settings: { error_default_type: 'text/html' } })
    const closed = await closedPort()
    await admin(gw, '/services', { name: 'down', url: `http://127.0.0.1:${closed}`, retries: 0 })
    await admin(gw, '/services/down/routes', { paths: ['/down'] })
    await settle(gw)
  })

  after(async () => {
    await gw?.stop()
  })

  test('applies to nginx-level errors only; kong.response.error stays JSON by default', async () => {
    const bad = await rawRequest(
      gw.proxyPort,
      rawText('GET', '/down', [
        ['Host', 'x.test'],
        ['Connection', 'close'],
      ]),
    )
    assertError(bad, 502, 'html', BAD_GATEWAY, '502 without Accept')
    const miss = await rawRequest(
      gw.proxyPort,
      rawText('GET', '/elsewhere', [
        ['Host', 'x.test'],
        ['Connection', 'close'],
      ]),
    )
    assertError(miss, 404, 'json', NO_ROUTE, '404 without Accept')
  })
})
