/** Templates and body helpers of request-transformer: pure functions, no gateway. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { compileTemplate, render, type TemplateEnv } from '../../../../src/plugins/request-transformer/template.js'
import { decodeArgs, encodeArgs, parseMultipart, serializeMultipart } from '../../../../src/plugins/request-transformer/body.js'
import { checkForValue, escapePath, splitPair } from '../../../../src/plugins/request-transformer/index.js'

const env: TemplateEnv = {
  headers: () => ({ 'x-user': 'alice', 'x-many': ['a', 'b'], host: 'h.test' }),
  query_params: () => ({ q: 'search', flag: true }),
  uri_captures: () => ({ '1': 'first', id: '42' }),
  shared: () => ({ tenant: 't1' }),
}

describe('request-transformer templates', () => {
  test('lookups by dot and brackets; header names case-insensitive with _ for -', () => {
    assert.equal(render('id=$(uri_captures.id)', env), 'id=42')
    assert.equal(render('$(uri_captures[1])', env), 'first')
    assert.equal(render('$(headers["x-user"])', env), 'alice')
    assert.equal(render('$(headers.X_User)', env), 'alice')
    assert.equal(render("$(query_params['q'])/$(shared.tenant)", env), 'search/t1')
  })

  test('or / and defaults, nil renders empty, literals escape templates', () => {
    assert.equal(render('$(query_params.missing or "dflt")', env), 'dflt')
    assert.equal(render('$(headers.absent)', env), '')
    assert.equal(render('$(query_params.q and "has-q")', env), 'has-q')
    assert.equal(render("$('$(kept)')", env), '$(kept)')
    assert.equal(render('$(type(headers["x-many"]) == "table" and headers["x-many"][2] or "one")', env), 'b')
    assert.equal(render('a $( unbalanced', env), 'a $( unbalanced')
  })

  test('values that cannot be rendered throw (tables, true); bad syntax fails to compile', () => {
    assert.throws(() => render('$(headers["x-many"])', env), /concatenate a table value/)
    assert.throws(() => render('$(query_params.flag)', env), /concatenate a boolean value/)
    assert.throws(() => compileTemplate('$(headers[)'))
    assert.throws(() => compileTemplate('$(os.execute("x") x)'))
    assert.equal(render('$(os)', env), '', 'unknown globals are nil: nothing outside the sandbox')
  })

  test('config entries: split as Kong, values required and compiled', () => {
    assert.deepEqual(splitPair('a:b:c'), ['a', 'b:c'])
    assert.deepEqual(splitPair('a::b'), ['a', 'b'])
    assert.deepEqual(splitPair('a:'), ['a', undefined])
    assert.equal(checkForValue('a:1'), undefined)
    assert.equal(checkForValue('novalue'), "key 'novalue' has no value")
    assert.match(checkForValue('a:$(x[)') ?? '', /^value '\$\(x\[\)' is not in supported format, error:/)
  })

  test('paths are escaped for the upstream, existing escapes kept', () => {
    assert.equal(escapePath('/a b/ü/%41/100%'), '/a%20b/%C3%BC/%41/100%25')
  })
})

describe('request-transformer bodies', () => {
  test('args: decode (bare, repeated, +) and encode as nginx', () => {
    assert.deepEqual(decodeArgs('a=1&a=2&flag&b=x+y%21'), { a: ['1', '2'], flag: true, b: 'x y!' })
    assert.equal(encodeArgs({ a: ['1', '2'], flag: true, off: false, s: "a b!'" }), 'a=1&a=2&flag&s=a%20b%21%27')
  })
  test('args named __proto__ or constructor are ordinary arguments, kept in order', () => {
    const args = decodeArgs('__proto__=1&__proto__=2&constructor=c&x=1')
    assert.equal(Object.getPrototypeOf(args), Object.prototype)
    assert.deepEqual(Object.keys(args), ['__proto__', 'constructor', 'x'])
    assert.equal(encodeArgs(args), '__proto__=1&__proto__=2&constructor=c&x=1')
  })

  test('multipart: parts read, edited and written back with the same boundary', () => {
    const body = Buffer.from(
      '--B\r\nContent-Disposition: form-data; name="f"; filename="x.txt"\r\nContent-Type: text/plain\r\n\r\nfile\r\ndata\r\n--B\r\nContent-Disposition: form-data; name="k"\r\n\r\nv\r\n--B--\r\n',
    )
    const form = parseMultipart(body, 'multipart/form-data; boundary=B')
    assert.ok(form !== null)
    assert.deepEqual(form.names(), ['f', 'k'])
    assert.equal(form.get('f')?.toString(), 'file\r\ndata')
    form.delete('k')
    form.set('n', Buffer.from('new'))
    const out = serializeMultipart(form).toString()
    assert.equal(
      out,
      '--B\r\nContent-Disposition: form-data; name="f"; filename="x.txt"\r\nContent-Type: text/plain\r\n\r\nfile\r\ndata\r\n--B\r\nContent-Disposition: form-data; name="n"\r\n\r\nnew\r\n--B--\r\n',
    )
    assert.equal(parseMultipart(body, 'multipart/form-data'), null, 'no boundary')
  })
})
