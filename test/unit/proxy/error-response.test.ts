/**
 * Kong's error bodies and content negotiation (kong/tools/http.lua `get_response_type`,
 * `get_mime_type`, error templates; kong/error_handlers.lua for nginx-level errors).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  negotiateKongError,
  negotiateNginxError,
  nginxErrorMessage,
  renderError,
  type ErrorMime,
} from '../../../src/proxy/error-response.js'

describe('negotiateKongError (Kong get_response_type)', () => {
  const cases: ReadonlyArray<readonly [string | undefined, ErrorMime]> = [
    [undefined, 'application/json'],
    ['', 'application/json'],
    ['*/*', 'application/json'],
    ['application/json', 'application/json'],
    ['text/html', 'text/html'],
    ['application/xml', 'application/xml'],
    ['text/plain', 'text/plain'],
    ['text/*', 'text/plain'],
    ['application/*', 'application/json'],
    ['image/*', 'application/json'],
    ['image/png', 'application/json'],
    ['  application/xml  ', 'application/xml'],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'text/html'],
    ['text/html;q=0.5, application/xml', 'application/xml'],
    ['application/xml;q=0.9, text/plain;q=0.9', 'application/xml'],
    ['application/json;q=0, text/plain', 'text/plain'],
    ['text/html;q=0', 'application/json'],
    ['text/plain;q=0.5, image/png', 'application/json'],
    ['text/html; level=1; q=0.2, text/plain; q=0.3', 'text/plain'],
    ['text/html;Q=0.2, text/plain;q=0.3', 'text/plain'],
    ['text/plain;q=1.000, text/html', 'text/plain'],
    ['text/plain;q=2, text/html', 'text/plain'], // q=2 is not a q value Kong reads: q stays 1
    ['text/html;q=0.5junk, text/plain;q=0.4', 'text/html'], // the pattern is anchored at the start only
    ['text/html;q=0.1239, text/plain;q=0.1235', 'text/html'], // three decimals are read (0.123 each): the first wins
    ['Text/HTML', 'application/json'], // Kong's type table lookup is case-sensitive
    ['garbage, text/xml', 'application/json'],
    ['application/grpc', 'application/grpc'],
  ]
  for (const [accept, want] of cases) {
    test(`Accept: ${accept === undefined ? '(none)' : JSON.stringify(accept)} → ${want}`, () => {
      assert.equal(negotiateKongError(accept), want)
    })
  }
})

describe('negotiateNginxError (/kong_error_handler)', () => {
  test('Accept first, then Content-Type, then error_default_type', () => {
    assert.equal(negotiateNginxError('text/html', 'application/json', 'text/plain'), 'text/html')
    assert.equal(negotiateNginxError(undefined, 'application/json; charset=utf-8', 'text/plain'), 'application/json')
    assert.equal(negotiateNginxError(undefined, 'application/x-www-form-urlencoded', 'text/plain'), 'application/json')
    assert.equal(negotiateNginxError(undefined, undefined, 'text/plain'), 'text/plain')
    assert.equal(negotiateNginxError(undefined, undefined, 'application/xml'), 'application/xml')
  })
  test('the whole Accept list is negotiated (a browser gets HTML)', () => {
    assert.equal(
      negotiateNginxError('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', undefined, 'text/plain'),
      'text/html',
    )
  })
  test('gRPC requests get no body', () => {
    assert.equal(negotiateNginxError(undefined, 'application/grpc+proto', 'text/plain'), 'application/grpc')
    assert.equal(negotiateNginxError('application/grpc', undefined, 'text/plain'), 'application/grpc')
  })
})

describe('renderError (Kong templates)', () => {
  const id = '0123456789abcdef0123456789abcdef'
  test('JSON', () => {
    assert.deepEqual(renderError('application/json', 'no Route matched with those values', id), {
      contentType: 'application/json; charset=utf-8',
      body: `{\n  "message":"no Route matched with those values",\n  "request_id":"${id}"\n}`,
    })
  })
  test('HTML', () => {
    assert.deepEqual(renderError('text/html', 'Bad request', id), {
      contentType: 'text/html; charset=utf-8',
      body: `<!doctype html>\n<html>\n  <head>\n    <meta charset="utf-8">\n    <title>Error</title>\n  </head>\n  <body>\n    <h1>Error</h1>\n    <p>Bad request.</p>\n    <p>request_id: ${id}</p>\n  </body>\n</html>\n`,
    })
  })
  test('XML', () => {
    assert.deepEqual(renderError('application/xml', 'Bad request', id), {
      contentType: 'application/xml; charset=utf-8',
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<error>\n  <message>Bad request</message>\n  <requestid>${id}</requestid>\n</error>\n`,
    })
  })
  test('plain', () => {
    assert.deepEqual(renderError('text/plain', 'Bad request', id), {
      contentType: 'text/plain; charset=utf-8',
      body: `Bad request\nrequest_id: ${id}\n`,
    })
  })
  test('gRPC: no body', () => {
    assert.equal(renderError('application/grpc', 'x', id).body, '')
  })
  test('messages with quotes or markup stay well-formed (raw DNS error texts)', () => {
    const msg = 'dns server error: "x" <y> & z\\'
    const j = renderError('application/json', msg, id)
    assert.equal((JSON.parse(j.body) as { message: string }).message, msg)
    assert.match(renderError('application/xml', msg, id).body, /<message>dns server error: &quot;x&quot; &lt;y&gt; &amp; z\\<\/message>/)
  })
})

describe('nginxErrorMessage', () => {
  test("Kong's error_handlers.lua messages", () => {
    const table: ReadonlyArray<readonly [number, string]> = [
      [400, 'Bad request'],
      [404, 'Not found'],
      [405, 'Method not allowed'],
      [408, 'Request timeout'],
      [411, 'Length required'],
      [412, 'Precondition failed'],
      [413, 'Payload too large'],
      [414, 'URI too long'],
      [417, 'Expectation failed'],
      [494, 'Request header or cookie too large'],
      [500, 'An unexpected error occurred'],
      [502, 'An invalid response was received from the upstream server'],
      [503, 'The upstream server is currently unavailable'],
      [504, 'The upstream server is timing out'],
      [507, 'The upstream server responded with 507'],
    ]
    for (const [status, message] of table) assert.equal(nginxErrorMessage(status), message, String(status))
  })
})
