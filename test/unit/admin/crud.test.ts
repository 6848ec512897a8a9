import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { REGISTRY } from '../dao/fixtures.js'
import { ENTITIES } from '../../../src/entities/index.js'
import { harness } from './helpers.js'

const UUID = /^[0-9a-f-]{36}$/

describe('Admin API generic CRUD', () => {
  test('POST /services → 201 with Kong headers', async () => {
    const h = await harness(REGISTRY)
    const res = await h.call('POST', '/services', { json: { name: 's1', host: 'example.com' }, headers: { origin: 'http://ui.test' } })
    assert.equal(res.status, 201)
    assert.match(res.json.id, UUID)
    assert.equal(res.json.port, 80)
    assert.equal(res.headers['Content-Type'], 'application/json; charset=utf-8')
    assert.equal(res.headers['Access-Control-Allow-Origin'], 'http://ui.test')
    assert.equal(res.headers['Access-Control-Allow-Credentials'], 'true')
    assert.match(res.headers['X-Kong-Admin-Latency'] ?? '', /^\d+$/)
    assert.equal(res.headers['Server'], 'turnpike/3.9.1')
    const anon = await h.call('GET', '/services')
    assert.equal(anon.headers['Access-Control-Allow-Origin'], '*')
  })

  test('GET/PATCH/PUT/DELETE by name and by id', async () => {
    const h = await harness(REGISTRY)
    const created = (await h.call('POST', '/services', { json: { name: 'my svc', host: 'a.test' } })).json
    assert.equal((await h.call('GET', '/services/my%20svc')).json.id, created.id)
    assert.equal((await h.call('GET', `/services/${created.id}`)).json.name, 'my svc')
    const patched = await h.call('PATCH', '/services/my%20svc', { json: { port: 8080 } })
    assert.equal(patched.status, 200)
    assert.equal(patched.json.port, 8080)
    assert.equal(patched.json.host, 'a.test')
    const put = await h.call('PUT', `/services/${created.id}`, { json: { name: 'my svc', host: 'b.test' } })
    assert.equal(put.status, 200)
    assert.equal(put.json.port, 80)
    assert.equal(put.json.created_at, created.created_at)
    assert.equal((await h.call('DELETE', '/services/my%20svc')).status, 204)
    assert.deepEqual((await h.call('GET', '/services/my%20svc')).json, { message: 'Not found' })
    assert.equal((await h.call('GET', '/services/my%20svc')).status, 404)
    const again = await h.call('DELETE', '/services/my%20svc')
    assert.equal(again.status, 204)
    assert.equal(again.body, undefined)
  })

  test('PUT /services/{name} creates the named service', async () => {
    const h = await harness(REGISTRY)
    const res = await h.call('PUT', '/services/my-svc', { json: { host: 'a.test' } })
    assert.equal(res.status, 200)
    assert.equal(res.json.name, 'my-svc')
    assert.equal((await h.call('GET', '/services/my-svc')).json.id, res.json.id)
  })

  test('PATCH of an absent entity is 404 with Kong not-found body', async () => {
    const h = await harness(REGISTRY)
    const res = await h.call('PATCH', '/services/ghost', { json: { port: 1 } })
    assert.equal(res.status, 404)
    assert.deepEqual(res.json, {
      code: 6,
      name: 'not found',
      message: `could not find the entity with '{name="ghost"}'`,
      fields: { name: 'ghost' },
    })
  })

  test('schema violation and unique violation bodies', async () => {
    const h = await harness(REGISTRY)
    const bad = await h.call('POST', '/services', { json: { name: 'x' } })
    assert.equal(bad.status, 400)
    assert.deepEqual(bad.json, {
      code: 2,
      name: 'schema violation',
      message: 'schema violation (host: required field missing)',
      fields: { host: 'required field missing' },
    })
    await h.call('POST', '/services', { json: { name: 'x', host: 'a.test' } })
    const dup = await h.call('POST', '/services', { json: { name: 'x', host: 'a.test' } })
    assert.equal(dup.status, 409)
    assert.deepEqual(dup.json, {
      code: 5,
      name: 'unique constraint violation',
      message: `UNIQUE violation detected on '{name="x"}'`,
      fields: { name: 'x' },
    })
  })

  test('deleting a referenced service is 400 code 4', async () => {
    const h = await harness(REGISTRY)
    await h.call('POST', '/services', { json: { name: 's', host: 'a.test' } })
    await h.call('POST', '/services/s/routes', { json: { paths: ['/a'] } })
    const res = await h.call('DELETE', '/services/s')
    assert.equal(res.status, 400)
    assert.deepEqual(res.json, {
      code: 4,
      name: 'foreign key violation',
      message: "an existing 'routes' entity references this 'services' entity",
      fields: { '@referenced_by': 'routes' },
    })
  })

  test('a non-uuid key on an entity without endpoint key is 400 code 1', async () => {
    const h = await harness(REGISTRY)
    const res = await h.call('GET', '/plugins/abc')
    assert.equal(res.status, 400)
    assert.equal(res.json.code, 1)
    assert.equal(res.json.message, `invalid primary key: '{id="abc"}'`)
  })
})

describe('Admin API pagination and tags', () => {
  test('size, offset and next links', async () => {
    const h = await harness(REGISTRY)
    for (let i = 0; i < 5; i++) await h.call('POST', '/services', { json: { name: `s${i}`, host: 'a.test', tags: ['t1'] } })
    const first = await h.call('GET', '/services?size=2&tags=t1')
    assert.equal(first.json.data.length, 2)
    assert.equal(typeof first.json.offset, 'string')
    assert.equal(first.json.next, `/services?offset=${encodeURIComponent(first.json.offset)}&tags=t1&size=2`)
    const [path, query] = (first.json.next as string).split('?')
    const second = await h.call('GET', `${path}?${query}`)
    assert.equal(second.json.data.length, 2)
    const all = await h.call('GET', '/services')
    assert.equal(all.json.data.length, 5)
    assert.equal(all.json.next, null)
    assert.equal('offset' in all.json, false)
  })

  test('a foreign record without its key is checked field by field (Kong 3.9.3 09-routes_routes_spec.lua)', async () => {
    const h = await harness(ENTITIES)
    const res = await h.call('POST', '/routes', { json: { methods: ['GET'], protocols: ['foo', 'http'], service: { protocol: 'foo' } } })
    assert.equal(res.status, 400)
    const oneOf = 'expected one of: grpc, grpcs, http, https, tcp, tls, tls_passthrough, udp'
    assert.deepEqual(res.json, {
      code: 2,
      name: 'schema violation',
      message: `2 schema violations (protocols.1: ${oneOf}; service.protocol: ${oneOf})`,
      fields: { protocols: [oneOf], service: { protocol: oneOf } },
    })
    // a record whose fields are valid still needs its key
    const noKey = await h.call('POST', '/routes', { json: { paths: ['/x'], service: { protocol: 'http' } } })
    assert.deepEqual(noKey.json.fields, { service: { id: 'missing primary key' } })
  })

  test("upstream algorithm and hash_on are kept consistent on write, as Kong 3.9.3's shorthands do", async () => {
    const h = await harness(ENTITIES)
    const make = async (name: string, json: Record<string, unknown>) =>
      (await h.call('POST', '/upstreams', { json: { name, ...json } })).json
    const pair = (u: { algorithm: string; hash_on: string }) => [u.algorithm, u.hash_on]
    assert.deepEqual(pair(await make('a', {})), ['round-robin', 'none'])
    assert.deepEqual(pair(await make('b', { hash_on: 'ip' })), ['consistent-hashing', 'ip'])
    assert.deepEqual(pair(await make('c', { algorithm: 'consistent-hashing', hash_on: 'none' })), ['round-robin', 'none'])
    assert.deepEqual(pair(await make('d', { algorithm: 'least-connections', hash_on: 'ip' })), ['least-connections', 'none'])
    assert.deepEqual(pair(await make('e', { algorithm: 'latency' })), ['latency', 'none'])
    assert.deepEqual(pair(await make('f', { algorithm: 'consistent-hashing' })), ['consistent-hashing', 'none'])
    // on update too: the written fields drive the other one
    assert.deepEqual(pair((await h.call('PATCH', '/upstreams/a', { json: { hash_on: 'consumer' } })).json), [
      'consistent-hashing',
      'consumer',
    ])
    assert.deepEqual(pair((await h.call('PATCH', '/upstreams/a', { json: { hash_on: null } })).json), ['consistent-hashing', 'none'])
    assert.deepEqual(pair((await h.call('PATCH', '/upstreams/b', { json: { algorithm: 'least-connections' } })).json), [
      'least-connections',
      'none',
    ])
  })

  test('a bad target: the DAO refuses it alone on Admin API writes, the schema names it (08-targets_routes, 08-targets schema specs)', async () => {
    const h = await harness(ENTITIES)
    const up = (await h.call('POST', '/upstreams', { json: { name: 'u' } })).json
    const post = await h.call('POST', '/upstreams/u/targets', { json: { target: '123', weight: -1 } })
    assert.equal(post.status, 400)
    assert.deepEqual(post.json.fields, { target: 'Invalid target; not a valid hostname or ip address' })
    const check = await h.call('POST', '/schemas/targets/validate', { json: { target: 'hostname:1.0', upstream: { id: up.id } } })
    assert.deepEqual(check.json.fields, { target: "Invalid target ('hostname:1.0'); not a valid hostname or ip address" })
  })

  test('Kong errors for bad size, offset and tags', async () => {
    const h = await harness(REGISTRY)
    assert.deepEqual((await h.call('GET', '/services?size=abc')).json, { code: 9, name: 'invalid size', message: 'size must be a number' })
    const big = await h.call('GET', '/services?size=1001')
    assert.equal(big.status, 400)
    assert.equal(big.json.message, 'size must be an integer between 1 and 1000')
    const off = await h.call('GET', '/services?offset=nope')
    assert.equal(off.status, 400)
    assert.deepEqual(off.json, { code: 7, name: 'invalid offset', message: `'nope' is not a valid offset: bad offset` })
    // Kong 3.9.3 09-routes_routes_spec.lua: a token that is not base64 at all
    const x = await h.call('GET', '/services?offset=x')
    assert.deepEqual(x.json, { code: 7, name: 'invalid offset', message: `'x' is not a valid offset: bad base64 encoding` })
    assert.match((await h.call('GET', '/services?offset=|potato|')).json.message, /bad base64 encoding$/)
    const mixed = await h.call('GET', '/services?tags=a,b/c')
    assert.equal(mixed.status, 400)
    assert.deepEqual(mixed.json, {
      code: 11,
      name: 'invalid options',
      message: 'invalid option (tags: invalid filter syntax)',
      options: { tags: 'invalid filter syntax' },
    })
    const many = await h.call('GET', '/services?tags=a,b,c,d,e,f')
    assert.equal(many.json.message, 'invalid option (tags: cannot query more than 5 tags)')
  })

  test('tags AND / OR filters and /tags listing', async () => {
    const h = await harness(REGISTRY)
    await h.call('POST', '/services', { json: { name: 'a', host: 'a.test', tags: ['x', 'y'] } })
    await h.call('POST', '/services', { json: { name: 'b', host: 'a.test', tags: ['x'] } })
    await h.call('POST', '/services', { json: { name: 'c', host: 'a.test', tags: ['z'] } })
    const names = (res: { json: { data: { name: string }[] } }): string[] => res.json.data.map((s) => s.name).sort()
    assert.deepEqual(names(await h.call('GET', '/services?tags=x,y')), ['a'])
    assert.deepEqual(names(await h.call('GET', '/services?tags=y/z')), ['a', 'c'])
    const tags = await h.call('GET', '/tags')
    assert.equal(tags.status, 200)
    assert.equal(tags.json.data.length, 4)
    assert.deepEqual(Object.keys(tags.json.data[0]).sort(), ['entity_id', 'entity_name', 'tag'])
    const x = await h.call('GET', '/tags/x')
    assert.deepEqual(
      x.json.data.map((r: { entity_name: string }) => r.entity_name),
      ['services', 'services'],
    )
    assert.equal(x.json.next, null)
  })
})

describe('Admin API nested endpoints', () => {
  test('/services/{s}/routes POST, GET and ownership', async () => {
    const h = await harness(REGISTRY)
    const svc = (await h.call('POST', '/services', { json: { name: 'example', host: 'a.test' } })).json
    await h.call('POST', '/services', { json: { name: 'other', host: 'a.test' } })
    const route = await h.call('POST', '/services/example/routes', { form: 'name=r1&paths[]=/api' })
    assert.equal(route.status, 201)
    assert.deepEqual(route.json.service, { id: svc.id })
    assert.deepEqual(route.json.paths, ['/api'])
    const list = await h.call('GET', '/services/example/routes')
    assert.equal(list.json.data.length, 1)
    assert.equal(list.json.next, null)
    assert.equal((await h.call('GET', '/services/example/routes/r1')).status, 200)
    assert.equal((await h.call('GET', '/services/other/routes/r1')).status, 404)
    assert.equal((await h.call('PATCH', '/services/other/routes/r1', { json: { paths: ['/b'] } })).status, 404)
    assert.equal((await h.call('DELETE', '/services/other/routes/r1')).status, 404)
    assert.equal((await h.call('GET', '/services/ghost/routes')).status, 404)
    assert.equal((await h.call('POST', '/services/ghost/routes', { json: { paths: ['/x'] } })).status, 404)
    const patched = await h.call('PATCH', '/services/example/routes/r1', { json: { paths: ['/b'] } })
    assert.deepEqual(patched.json.paths, ['/b'])
    assert.equal((await h.call('DELETE', '/services/example/routes/r1')).status, 204)
    assert.equal((await h.call('DELETE', '/services/example/routes/r1')).status, 404)
  })

  test('/routes/{r}/service GET, PATCH, PUT and DELETE 405', async () => {
    const h = await harness(REGISTRY)
    await h.call('POST', '/services', { json: { name: 'svc', host: 'a.test' } })
    await h.call('POST', '/routes', { json: { name: 'r', paths: ['/'], service: { name: 'svc' } } })
    await h.call('POST', '/routes', { json: { name: 'orphan', paths: ['/o'] } })
    assert.equal((await h.call('GET', '/routes/r/service')).json.name, 'svc')
    assert.equal((await h.call('PATCH', '/routes/r/service', { json: { port: 9000 } })).json.port, 9000)
    assert.deepEqual((await h.call('DELETE', '/routes/r/service')).json, { message: 'Method not allowed' })
    assert.equal((await h.call('DELETE', '/routes/r/service')).status, 405)
    assert.equal((await h.call('GET', '/routes/orphan/service')).status, 404)
    const put = await h.call('PUT', '/routes/orphan/service', { json: { host: 'new.test' } })
    assert.equal(put.status, 200)
    assert.deepEqual((await h.call('GET', '/routes/orphan')).json.service, { id: put.json.id })
  })
})

describe('Admin API bodies', () => {
  test('form arrays in every Kong spelling, dotted foreign keys and multipart', async () => {
    const h = await harness(REGISTRY)
    const svc = (await h.call('POST', '/services', { form: 'name=f&host=a.test&port=8080' })).json
    assert.equal(svc.port, 8080)
    const a = await h.call('POST', '/routes', { form: 'paths[]=/a&paths[]=/b' })
    assert.deepEqual(a.json.paths, ['/a', '/b'])
    const b = await h.call('POST', '/routes', { form: 'paths=/a&paths=/b' })
    assert.deepEqual(b.json.paths, ['/a', '/b'])
    const c = await h.call('POST', '/routes', { form: `paths[1]=/one&service.id=${svc.id}` })
    assert.deepEqual(c.json.paths, ['/one'])
    assert.deepEqual(c.json.service, { id: svc.id })
    const d = await h.call('POST', '/routes', { form: 'paths=/single' })
    assert.deepEqual(d.json.paths, ['/single'])
    const boundary = 'XyZ'
    const multipart = [
      `--${boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nmp\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="host"\r\n\r\nmp.test\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="port"\r\n\r\n81\r\n`,
      `--${boundary}--\r\n`,
    ].join('')
    const mp = await h.call('POST', '/services', {
      body: multipart,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    })
    assert.equal(mp.status, 201)
    assert.equal(mp.json.port, 81)
  })

  test('unparsable JSON is 400, unknown content types 415', async () => {
    const h = await harness(REGISTRY)
    const bad = await h.call('POST', '/services', { body: '{nope', headers: { 'content-type': 'application/json' } })
    assert.equal(bad.status, 400)
    assert.deepEqual(bad.json, { message: 'Cannot parse JSON body' })
    const xml = await h.call('POST', '/services', { body: '<x/>', headers: { 'content-type': 'application/xml' } })
    assert.equal(xml.status, 415)
    assert.equal(xml.body, undefined)
  })
})
