/**
 * request-transformer against the real gateway: headers (remove/rename/replace/add/append, Host),
 * query strings, JSON / form / multipart bodies, http_method (a form body moved to the query on
 * GET), replace.uri with regex captures, templates over headers, query and captures with `or`
 * defaults, and Kong's refusal of bad entries.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { request } from 'undici'
import { call } from '../../helpers/gateway.js'
import { pluginSuite } from '../../helpers/plugin-fixture.js'

describe('request-transformer plugin', () => {
  const fx = pluginSuite({}, async () => {
    const plugins: Record<string, [unknown, Record<string, unknown>?]> = {
      headers: [
        {
          remove: { headers: ['x-remove-me'] },
          rename: { headers: ['x-old:x-new'] },
          replace: { headers: ['x-replace:replaced', 'x-absent:never', 'host:backend.internal'] },
          add: { headers: ['x-added:yes', 'x-keep:ignored'] },
          append: { headers: ['x-multi:two'] },
        },
      ],
      query: [
        {
          remove: { querystring: ['drop'] },
          rename: { querystring: ['old:new'] },
          replace: { querystring: ['rep:replaced', 'nope:never'] },
          add: { querystring: ['added:a b', 'keep:ignored'] },
          append: { querystring: ['multi:2'] },
        },
      ],
      body: [
        {
          remove: { body: ['secret'] },
          rename: { body: ['old:new'] },
          replace: { body: ['rep:replaced'] },
          add: { body: ['added:yes', 'keep:ignored'] },
          append: { body: ['list:x'] },
        },
      ],
      method: [{ http_method: 'GET' }],
      template: [
        {
          add: {
            headers: [
              'x-user:$(uri_captures.user)',
              'x-from-query:$(query_params.q or "none")',
              'x-agent:$(headers["x-client"])',
              'x-literal:$("$(not evaluated)")',
            ],
          },
          replace: { uri: '/users/$(uri_captures.user)/profile' },
        },
        { paths: ['~/tpl/(?<user>\\w+)$'] },
      ],
      repeated: [{ add: { headers: ['x-copy:$(headers.x_dup)'] } }],
    }
    for (const [name, [config, route]] of Object.entries(plugins)) await fx.route(name, [{ name: 'request-transformer', config }], route)
  })

  test('headers: remove → rename → replace (Host too) → add → append', async () => {
    const res = await call('GET', `${fx.gw.proxyUrl}/headers`, undefined, {
      'x-remove-me': '1',
      'x-old': 'moved',
      'x-replace': 'original',
      'x-keep': 'mine',
      'x-multi': 'one',
    })
    assert.equal(res.status, 200)
    const h = res.body.headers
    assert.equal(h['x-remove-me'], undefined)
    assert.equal(h['x-old'], undefined)
    assert.equal(h['x-new'], 'moved')
    assert.equal(h['x-replace'], 'replaced')
    assert.equal(h['x-absent'], undefined, 'replace only touches present headers')
    assert.equal(h['host'], 'backend.internal', 'replace may change Host')
    assert.equal(h['x-added'], 'yes')
    assert.equal(h['x-keep'], 'mine', 'add never overwrites')
    assert.equal(h['x-multi'], 'one, two')
  })

  test('querystring: remove, rename, replace, add (encoded), append', async () => {
    await call('GET', `${fx.gw.proxyUrl}/query?drop=1&old=o&rep=r&keep=k&multi=1&other=z`)
    const url = new URL(`http://x${fx.up.received.at(-1)?.url}`)
    assert.equal(url.searchParams.get('drop'), null)
    assert.equal(url.searchParams.get('old'), null)
    assert.equal(url.searchParams.get('new'), 'o')
    assert.equal(url.searchParams.get('rep'), 'replaced')
    assert.equal(url.searchParams.get('nope'), null)
    assert.equal(url.searchParams.get('added'), 'a b')
    assert.match(url.search, /added=a%20b/)
    assert.equal(url.searchParams.get('keep'), 'k')
    assert.deepEqual(url.searchParams.getAll('multi'), ['1', '2'])
    assert.equal(url.searchParams.get('other'), 'z')
  })

  test('JSON body: transformed, Content-Length updated', async () => {
    await call('POST', `${fx.gw.proxyUrl}/body`, { secret: 's', old: 'o', rep: 'r', keep: 'k', list: 'a', n: 1 })
    const got = fx.up.received.at(-1)
    assert.ok(got !== undefined)
    const body = JSON.parse(got.body)
    assert.deepEqual(body, { new: 'o', rep: 'replaced', keep: 'k', list: ['a', 'x'], n: 1, added: 'yes' })
    assert.equal(got.headers['content-length'], String(Buffer.byteLength(got.body)))
  })

  test('JSON body: an empty body gets add/append; an unparsable one is left alone', async () => {
    await call('POST', `${fx.gw.proxyUrl}/body`, '', { 'content-type': 'application/json' })
    assert.deepEqual(JSON.parse(fx.up.received.at(-1)?.body ?? ''), { added: 'yes', keep: 'ignored', list: ['x'] })
    await call('POST', `${fx.gw.proxyUrl}/body`, '{not json', { 'content-type': 'application/json' })
    assert.equal(fx.up.received.at(-1)?.body, '{not json')
  })

  test('form body: transformed and re-encoded', async () => {
    await call('POST', `${fx.gw.proxyUrl}/body`, 'secret=s&old=o&rep=r&keep=k&list=a', {
      'content-type': 'application/x-www-form-urlencoded',
    })
    const got = fx.up.received.at(-1)
    const params = new URLSearchParams(got?.body ?? '')
    assert.equal(params.get('secret'), null)
    assert.equal(params.get('new'), 'o')
    assert.equal(params.get('rep'), 'replaced')
    assert.equal(params.get('keep'), 'k')
    assert.equal(params.get('added'), 'yes')
    assert.deepEqual(params.getAll('list'), ['a', 'x'])
    assert.equal(got?.headers['content-length'], String(Buffer.byteLength(got?.body ?? '')))
  })

  test('multipart body: fields renamed, removed, replaced, added; boundary kept', async () => {
    const boundary = 'XyZ123'
    const body = [
      `--${boundary}`,
      'Content-Disposition: form-data; name="secret"',
      '',
      's',
      `--${boundary}`,
      'Content-Disposition: form-data; name="old"',
      '',
      'o',
      `--${boundary}`,
      'Content-Disposition: form-data; name="rep"',
      '',
      'r',
      `--${boundary}--`,
      '',
    ].join('\r\n')
    await call('POST', `${fx.gw.proxyUrl}/body`, body, { 'content-type': `multipart/form-data; boundary=${boundary}` })
    const got = fx.up.received.at(-1)
    const form = await new Request('http://x/', {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: got?.body ?? '',
    }).formData()
    assert.equal(form.get('secret'), null)
    assert.equal(form.get('new'), 'o')
    assert.equal(form.get('rep'), 'replaced')
    assert.equal(form.get('added'), 'yes')
  })

  test('http_method GET: the method changes and a form body moves into the query string', async () => {
    await call('POST', `${fx.gw.proxyUrl}/method?a=1`, 'b=2&a=3', { 'content-type': 'application/x-www-form-urlencoded' })
    const got = fx.up.received.at(-1)
    assert.equal(got?.method, 'GET')
    const url = new URL(`http://x${got?.url}`)
    assert.deepEqual(url.searchParams.getAll('a'), ['1', '3'])
    assert.equal(url.searchParams.get('b'), '2')
  })

  test('templates: uri_captures, query with an `or` default, headers, literal escape, replace.uri', async () => {
    await call('GET', `${fx.gw.proxyUrl}/tpl/alice?q=search`, undefined, { 'x-client': 'cli/1.0' })
    let got = fx.up.received.at(-1)
    assert.equal(got?.url, '/users/alice/profile?q=search')
    assert.equal(got?.headers['x-user'], 'alice')
    assert.equal(got?.headers['x-from-query'], 'search')
    assert.equal(got?.headers['x-agent'], 'cli/1.0')
    assert.equal(got?.headers['x-literal'], '$(not evaluated)')
    await call('GET', `${fx.gw.proxyUrl}/tpl/bob`)
    got = fx.up.received.at(-1)
    assert.equal(got?.url, '/users/bob/profile')
    assert.equal(got?.headers['x-from-query'], 'none')
    assert.equal(got?.headers['x-agent'], undefined, 'a missing header renders empty: not added')
  })

  test('a template that cannot be rendered (a repeated header) fails with a 500 and a log line', async () => {
    const ok = await call('GET', `${fx.gw.proxyUrl}/repeated`, undefined, { 'x-dup': 'one' })
    assert.equal(ok.body.headers['x-copy'], 'one', '`_` matches `-` in header names')
    // Two separate header lines (fetch would merge them into one).
    const res = await request(`${fx.gw.proxyUrl}/repeated`, { headers: ['x-dup', 'a', 'x-dup', 'b'] })
    assert.equal(res.statusCode, 500)
    assert.equal(((await res.body.json()) as { message: string }).message, 'An unexpected error occurred')
    await fx.gw.waitForLog(/plugin "request-transformer" .*failed in the access phase.*attempt to concatenate a table value/)
  })

  test('configuration: values are required, header names are checked, http_method is upper-case', async () => {
    const noValue = await call('POST', `${fx.gw.adminUrl}/plugins`, {
      name: 'request-transformer',
      config: { add: { querystring: ['novalue'] } },
    })
    assert.equal(noValue.status, 400)
    assert.match(noValue.text, /key 'novalue' has no value/)
    const badTemplate = await call('POST', `${fx.gw.adminUrl}/plugins`, {
      name: 'request-transformer',
      config: { add: { body: ['a:$(headers[)'] } },
    })
    assert.equal(badTemplate.status, 400)
    assert.match(badTemplate.text, /is not in supported format/)
    const badHeader = await call('POST', `${fx.gw.adminUrl}/plugins`, {
      name: 'request-transformer',
      config: { remove: { headers: ['bad header'] } },
    })
    assert.equal(badHeader.status, 400)
    assert.match(badHeader.text, /'bad header' is not a valid header/)
    const method = await call('POST', `${fx.gw.adminUrl}/plugins`, { name: 'request-transformer', config: { http_method: 'get' } })
    assert.equal(method.status, 400)
  })
})
