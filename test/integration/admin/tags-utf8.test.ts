/**
 * Tags and non-ASCII keys over real HTTP, as Kong 3.9.3 answers them
 * (spec/02-integration/04-admin_api/14-tags_spec.lua, kong/api/endpoints.lua, db/dao/tags.lua):
 * any printable text is a tag (spaces, emoji) and `?tags=` filters on it, `next` links keep the
 * filter escaped as nginx escapes it, an empty or non-UTF-8 filter is a code 11 error, a tag or
 * an endpoint key that is not UTF-8 is a code 10 error naming the position, and raw UTF-8 bytes
 * in the path (which Node's parser refuses) reach the entity they name.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { call, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { rawRequest } from '../proxy/helpers.js'

describe('Admin API: tags with any printable text, and keys that are not ASCII', () => {
  let gw: TestGateway
  before(async () => {
    gw = await startTestGateway()
    for (let i = 1; i <= 3; i++) {
      const res = await call('POST', `${gw.adminUrl}/consumers`, { username: `tagged-${i}`, tags: ['corp_ a', `consumer_ ${i}`, '🦍'] })
      assert.equal(res.status, 201, res.text)
    }
    assert.equal((await call('POST', `${gw.adminUrl}/services`, { name: '円', host: 'yen.test' })).status, 201)
  })
  after(async () => {
    await gw.stop()
  })

  test('a tag with a space or an emoji filters, alone and with others', async () => {
    const one = await call('GET', `${gw.adminUrl}/consumers?tags=corp_%20a`)
    assert.equal(one.status, 200, one.text)
    assert.equal(one.body.data.length, 3)
    const both = await call('GET', `${gw.adminUrl}/consumers?tags=${encodeURIComponent('corp_ a,consumer_ 2')}`)
    assert.deepEqual(
      both.body.data.map((c: { username: string }) => c.username),
      ['tagged-2'],
    )
    const either = await call('GET', `${gw.adminUrl}/consumers?tags=${encodeURIComponent('consumer_ 1/consumer_ 3')}`)
    assert.equal(either.body.data.length, 2)
    assert.equal((await call('GET', `${gw.adminUrl}/consumers?tags=${encodeURIComponent('🦍')}`)).body.data.length, 3)
    const byTag = await call('GET', `${gw.adminUrl}/tags/corp_%20a`)
    assert.equal(byTag.body.data.length, 3)
  })

  test('next links carry the filter and the size, escaped as nginx escapes them', async () => {
    const page = await call('GET', `${gw.adminUrl}/consumers?tags=corp_%20a&size=2`)
    assert.equal(page.body.data.length, 2)
    assert.match(page.body.next, /^\/consumers\?offset=[^&]+&tags=corp_%20a&size=2$/)
    const rest = await call('GET', `${gw.adminUrl}${page.body.next}`)
    assert.equal(rest.body.data.length, 1)
    assert.equal(rest.body.next, null)
  })

  test("empty, mixed and non-UTF-8 filters are code 11 with Kong's words", async () => {
    const empty = await call('GET', `${gw.adminUrl}/consumers?tags=`)
    assert.equal(empty.status, 400)
    assert.deepEqual(empty.body, {
      code: 11,
      name: 'invalid options',
      message: 'invalid option (tags: cannot be null)',
      options: { tags: 'cannot be null' },
    })
    const mixed = await call('GET', `${gw.adminUrl}/consumers?tags=a,b/c`)
    assert.equal(mixed.body.message, 'invalid option (tags: invalid filter syntax)')
    const bytes = await call('GET', `${gw.adminUrl}/consumers?tags=%FF`)
    assert.equal(bytes.status, 400)
    assert.equal(bytes.body.message, 'invalid option (tags: invalid filter syntax)')
  })

  test('a tag or a key that is not UTF-8 is code 10 naming the byte, never an empty answer', async () => {
    const tag = await call('GET', `${gw.adminUrl}/tags/%FF`)
    assert.equal(tag.status, 400)
    assert.deepEqual(tag.body, { code: 10, name: 'invalid unique tag', message: 'invalid utf-8 character sequence detected at position 1' })
    const comma = await call('GET', `${gw.adminUrl}/tags/a%2Cb`)
    assert.equal(comma.body.message, "invalid tag 'a,b': expected printable ascii (except `,` and `/`) or valid utf-8 sequences")
    const name = await call('GET', `${gw.adminUrl}/services/ab%E5%86`)
    assert.deepEqual(name.body, {
      code: 10,
      name: 'invalid unique name',
      message: 'invalid utf-8 character sequence detected at position 3',
    })
    // a segment that names no entity: the message alone, not an 'invalid unique id' it is not
    const schema = await call('GET', `${gw.adminUrl}/schemas/%FF`)
    assert.deepEqual([schema.status, schema.body], [400, { message: 'invalid utf-8 character sequence detected at position 1' }])
    // the raw byte, as Kong's spec sends it (string.char(255)): Node's parser refuses the line
    const raw = await rawRequest(gw.adminPort, Buffer.from('GET /tags/\xff HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'))
    assert.equal(raw.status, 400)
    assert.match(raw.headers['content-type'] ?? '', /^application\/json/)
    assert.match(raw.body.toString(), /invalid utf-8 character sequence detected at position 1/)
  })

  test('raw UTF-8 bytes in the path name the entity, as nginx passes them to Kong', async () => {
    const raw = await rawRequest(gw.adminPort, Buffer.from('GET /services/円 HTTP/1.1\r\nHost: x\r\n\r\n'))
    assert.equal(raw.status, 200, raw.body.toString())
    assert.equal(JSON.parse(raw.body.toString()).host, 'yen.test')
    const escaped = await call('GET', `${gw.adminUrl}/services/${encodeURIComponent('円')}`)
    assert.equal(escaped.body.host, 'yen.test')
  })
})
