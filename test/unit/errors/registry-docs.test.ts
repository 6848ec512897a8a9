/**
 * docs/errors.md and the error registry (src/errors/registry.ts) in step: every code is
 * documented with its status and client message, the page names no code the registry lacks,
 * codes are unique, and Kong's default messages live once.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, test } from 'node:test'
import {
  CONFIGURATION_ERRORS,
  ERRORS,
  kongDefaultMessage,
  nginxStatusMessage,
  refusal,
  UNEXPECTED_MESSAGE,
} from '../../../src/errors/registry.js'
import { nginxErrorMessage } from '../../../src/proxy/error-response.js'

const doc = readFileSync(fileURLToPath(new URL('../../../../docs/errors.md', import.meta.url)), 'utf8')
/** The table rows of the page, as their cells. */
const rows = doc
  .split('\n')
  .filter((l) => l.startsWith('|'))
  .map((l) =>
    l
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim()),
  )

describe('docs/errors.md documents the registry', () => {
  for (const e of ERRORS) {
    test(`${e.code}: ${e.status} \`${e.message}\``, () => {
      const mine = rows.filter((cells) => cells[0]?.split(/,\s*/).includes(`\`${e.code}\``))
      assert.ok(mine.length > 0, `docs/errors.md has no table row for \`${e.code}\``)
      assert.ok(
        mine.some((cells) => new RegExp(`^${e.status}\\b`).test(cells[1] ?? '') && (cells[2] ?? '').includes(`\`${e.message}\``)),
        `a row for ${e.code} must give its status ${e.status} and message \`${e.message}\`; found:\n${mine.map((c) => c.join(' | ')).join('\n')}`,
      )
    })
  }

  for (const e of CONFIGURATION_ERRORS) {
    test(`${e.code} (logged when a configuration is compiled)`, () => {
      assert.ok(
        rows.some((cells) => cells[0]?.split(/,\s*/).includes(`\`${e.code}\``)),
        `docs/errors.md has no table row for \`${e.code}\``,
      )
    })
  }

  test('the page names no code the registry lacks', () => {
    const known = new Set([...ERRORS, ...CONFIGURATION_ERRORS].map((e) => e.code))
    const named = new Set(doc.match(/\bTP_[A-Z0-9_]+\b/g) ?? [])
    assert.deepEqual(
      [...named].filter((c) => !known.has(c)),
      [],
    )
  })

  test('codes are unique', () => {
    const codes = [...ERRORS, ...CONFIGURATION_ERRORS].map((e) => e.code)
    assert.equal(new Set(codes).size, codes.length)
  })
})

describe('the messages', () => {
  test("nginx-raised errors carry nginx's message for their status (494 answered as 400)", () => {
    for (const e of ERRORS) {
      if (e.raisedBy !== 'nginx') continue
      const expected = e.code === 'TP_HEADER_TOO_LARGE' ? nginxStatusMessage(494) : nginxStatusMessage(e.status)
      assert.equal(e.message, expected, e.code)
    }
  })

  test("Kong's defaults: one 500 message; kong.response.error and nginx differ where Kong does", () => {
    assert.equal(kongDefaultMessage(500), UNEXPECTED_MESSAGE)
    assert.equal(nginxStatusMessage(500), UNEXPECTED_MESSAGE)
    assert.equal(kongDefaultMessage(502), 'Bad gateway')
    assert.equal(nginxStatusMessage(502), 'An invalid response was received from the upstream server')
    assert.equal(kongDefaultMessage(418), 'The upstream server responded with 418')
    assert.equal(nginxErrorMessage, nginxStatusMessage, "error-response re-exports the registry's")
  })

  test('every status nginx refuses a request with maps to a registry code', () => {
    const refused = [400, 405, 408, 413, 414, 494, 501].map((s) => refusal(s).code)
    assert.deepEqual(refused, [
      'TP_BAD_REQUEST',
      'TP_METHOD_NOT_ALLOWED',
      'TP_REQUEST_TIMEOUT',
      'TP_BODY_TOO_LARGE',
      'TP_URI_TOO_LONG',
      'TP_HEADER_TOO_LARGE',
      'TP_TRANSFER_ENCODING_NOT_IMPLEMENTED',
    ])
    assert.equal(refusal(494).status, 400)
  })
})
