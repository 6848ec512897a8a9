/**
 * HTTP dates read as nginx's `ngx_parse_http_time` reads them (hmac-auth's Date / X-Date): the
 * three RFC 9110 forms, nginx's leniency (weekday unchecked, trailing text ignored, months told
 * apart by a few letters) and its refusals (bad digits, impossible days and times).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parseHttpTime } from '../../../src/codec/http-time.js'

const at = (iso: string): number => Date.parse(iso) / 1000

describe('parseHttpTime', () => {
  test('IMF-fixdate, RFC 850 and asctime give the same instant', () => {
    const want = at('1994-11-06T08:49:37Z')
    assert.equal(parseHttpTime('Sun, 06 Nov 1994 08:49:37 GMT'), want)
    assert.equal(parseHttpTime('Sunday, 06-Nov-94 08:49:37 GMT'), want)
    assert.equal(parseHttpTime('Sun Nov  6 08:49:37 1994'), want)
    assert.equal(parseHttpTime('Sun Nov 06 08:49:37 1994'), want)
  })

  test("today's date as clients write it (toUTCString)", () => {
    const now = new Date('2026-12-07T05:00:01Z')
    assert.equal(parseHttpTime(now.toUTCString()), now.getTime() / 1000)
  })

  test('every month, leap days and two-digit years as nginx reads them', () => {
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
    months.forEach((m, i) => {
      assert.equal(parseHttpTime(`Mon, 01 ${m} 2024 00:00:00 GMT`), Date.UTC(2024, i, 1) / 1000, m)
    })
    assert.equal(parseHttpTime('Thu, 29 Feb 2024 12:00:00 GMT'), at('2024-02-29T12:00:00Z'))
    assert.equal(parseHttpTime('Tue, 29 Feb 2000 12:00:00 GMT'), at('2000-02-29T12:00:00Z'))
    assert.equal(parseHttpTime('Thursday, 01-Jan-70 00:00:00 GMT'), 0)
    assert.equal(parseHttpTime('Friday, 01-Jan-38 00:00:00 GMT'), at('2038-01-01T00:00:00Z'))
  })

  test("nginx's leniency: weekday unchecked, zone and trailing text ignored", () => {
    const want = at('1994-11-06T08:49:37Z')
    assert.equal(parseHttpTime('Xyz, 06 Nov 1994 08:49:37 GMT'), want)
    assert.equal(parseHttpTime('Sun, 06 Nov 1994 08:49:37 +0200 and more'), want)
    assert.equal(parseHttpTime(',   06 Nov 1994 08:49:37 GMT'), want)
  })

  test('refused: what nginx refuses', () => {
    for (const bad of [
      '',
      'wrong date',
      '2024-01-01T00:00:00Z',
      'Sun, 6 Nov 1994 08:49:37 GMT',
      'Sun, 06 Xyz 1994 08:49:37 GMT',
      'Sun, 06 Nov 94 08:49:37 GMT',
      'Sun, 06 Nov 1994 24:00:00 GMT',
      'Sun, 06 Nov 1994 08:60:00 GMT',
      'Sun, 06 Nov 1994 08:49:60 GMT',
      'Sun, 31 Nov 1994 08:49:37 GMT',
      'Wed, 29 Feb 2023 08:49:37 GMT',
      'Mon, 29 Feb 1900 08:49:37 GMT',
      'Sun, 06 Nov 1994 08-49-37 GMT',
      'Sun Nov  6 08:49:37 94',
    ]) {
      assert.equal(parseHttpTime(bad), null, bad)
    }
  })
})
