import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { wireHeaderList, wireHeaderObject, wireValue } from '../../../src/codec/header-values.js'

/** What a value puts on the wire (one byte per character). */
function bytes(v: string): Buffer {
  return Buffer.from(v, 'latin1')
}

describe('wireValue', () => {
  test('sendable values are returned as they are (bytes from a peer go back byte for byte)', () => {
    assert.equal(wireValue('plain'), 'plain')
    const fromPeer = Buffer.from('测试', 'utf8').toString('latin1')
    assert.equal(wireValue(fromPeer), fromPeer)
  })
  test('text beyond Latin-1 goes as its UTF-8 bytes', () => {
    assert.deepEqual(bytes(wireValue('测试用户')), Buffer.from('测试用户', 'utf8'))
    assert.deepEqual(bytes(wireValue('Müller 测试')), Buffer.from('Müller 测试', 'utf8'))
  })
  test('control characters are escaped as %XX, tab kept', () => {
    assert.equal(wireValue('a\r\nX-Evil: 1'), 'a%0D%0AX-Evil: 1')
    assert.equal(wireValue('a\x00b\x7f'), 'a%00b%7F')
    assert.equal(wireValue('a\tb'), 'a\tb')
  })
})

describe('wireHeaderList / wireHeaderObject', () => {
  test('the same list or object when nothing needs a change', () => {
    const list = ['a', '1', 'b', '2']
    assert.equal(wireHeaderList(list), list)
    const obj = { a: '1', b: ['2', '3'] }
    assert.equal(wireHeaderObject(obj), obj)
  })
  test('values converted, names that are not tokens left out', () => {
    assert.deepEqual(wireHeaderList(['x-name', '名', 'bad name', 'v', 'ok', 'v']), [
      'x-name',
      Buffer.from('名').toString('latin1'),
      'ok',
      'v',
    ])
    const out = wireHeaderObject({ 'x-name': '名', 'set-cookie': ['a=名'], 'bad\nname': 'v' })
    assert.deepEqual({ ...out }, { 'x-name': Buffer.from('名').toString('latin1'), 'set-cookie': [Buffer.from('a=名').toString('latin1')] })
  })
})
