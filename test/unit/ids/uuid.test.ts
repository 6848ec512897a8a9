/** The one UUID check and the one version-5 UUID maker, against Kong's and RFC 4122's examples. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isUuid, uuidv5 } from '../../../src/ids/uuid.js'

test('uuidv5 matches the RFC 4122 test vector', () => {
  assert.equal(uuidv5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com'), '2ed6657d-e927-568b-95e1-2665a8aea6a2')
  assert.equal(uuidv5('6BA7B810-9DAD-11D1-80B4-00C04FD430C8', 'www.example.com'), '2ed6657d-e927-568b-95e1-2665a8aea6a2')
})

test('isUuid: the canonical 8-4-4-4-12 form, any version, any case; nothing else', () => {
  for (const ok of ['2ed6657d-e927-568b-95e1-2665a8aea6a2', '00000000-0000-0000-0000-000000000000', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'])
    assert.equal(isUuid(ok), true, ok)
  for (const bad of [
    '2ed6657de927568b95e12665a8aea6a2',
    '{2ed6657d-e927-568b-95e1-2665a8aea6a2}',
    '2ed6657d-e927-568b-95e1-2665a8aea6a2\n',
    'g0000000-0000-0000-0000-000000000000',
    '',
    42,
    null,
  ]) {
    assert.equal(isUuid(bad), false, String(bad))
  }
})
