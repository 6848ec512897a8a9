/** Folding ASCII letters gives the same matches as the `i` flag, on ASCII input. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { foldAsciiCase } from '../../../src/regex/fold-case.js'
import { boundedRegex, regexEngineOf } from '../../../src/regex/bounded-regex.js'

const PATTERNS = [
  '^/api/v(\\d+)/users$',
  '^/Foo[a-c]+$',
  '^/x[^a-f]y',
  '^/(?<Name>[A-Z]\\w*)/(?<Id>x)$',
  '^/\\x41b\\u0063',
  '^/[\\x41-\\x43_]+$',
  '^/a{2,3}B$',
  '^/(?:cat|DOG)s?$',
  '^/\\bword\\B',
  '^/\\cJ?Q$',
  '^/[\\]a]z',
  '^/[A-z]+$',
  '^/\\D\\W\\S[\\d\\s]$',
  '^/[]x|^/y',
]
const INPUTS = [
  '/api/v1/users',
  '/API/V22/USERS',
  '/foobca',
  '/FOOABC',
  '/xgy',
  '/XAY',
  '/xzY',
  '/Bob/bob',
  '/Bob/Bob',
  '/ABC',
  '/abC',
  '/ab_C',
  '/aaB',
  '/AAAb',
  '/cats',
  '/DOGS',
  '/Dog',
  '/wordx',
  '/WORDX',
  '/q',
  '/\nQ',
  '/]z',
  '/AZ',
  '/[_^]',
  '/a!b1',
  '/Y',
  '/y',
]

test('foldAsciiCase matches exactly what the i flag matches', () => {
  for (const p of PATTERNS) {
    const folded = foldAsciiCase(p)
    assert.ok(folded !== null, p)
    const a = new RegExp(p, 'i')
    const b = new RegExp(folded)
    for (const s of INPUTS) {
      const ea = a.exec(s)
      const eb = b.exec(s)
      assert.deepEqual(eb === null ? null : [...eb], ea === null ? null : [...ea], `${p} (folded ${folded}) on ${JSON.stringify(s)}`)
      assert.deepEqual(eb?.groups, ea?.groups, p)
    }
  }
})

test('backreferences are not folded (they compare case-insensitively)', () => {
  assert.equal(foldAsciiCase('^/(a)\\1$'), null)
  assert.equal(foldAsciiCase('^/(?<n>a)\\k<n>$'), null)
  const re = boundedRegex('^/(a)\\1$', 'i')
  assert.equal(regexEngineOf(re), 'sandboxed')
  assert.equal(re.test('/aA'), true)
})

test('a case-insensitive route regex runs without the sandbox', () => {
  const re = boundedRegex('^/api/(v\\d)$', 'i')
  assert.notEqual(regexEngineOf(re), 'sandboxed')
  assert.equal(re.exec('/API/V1')?.[1], 'V1')
})
