/**
 * Hardening (found by test/hardening/admin-fuzz-config.test.ts): a declarative document nested
 * deeper than lua-cjson's 1,000 levels is refused with Kong's parse error instead of exhausting
 * the validator's stack (a 500 from POST /config, a crash at start-up).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ENTITIES } from '../../../src/entities/index.js'
import { entityGraph, loadDeclarativeText, MAX_DECLARATIVE_DEPTH, nestsDeeperThan } from '../../../src/declarative/index.js'

const graph = entityGraph(ENTITIES)
const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`

test('a document deeper than 1,000 levels is a parse error (JSON, YAML)', () => {
  const json = loadDeclarativeText(
    `{"_format_version":"3.0","services":[{"name":"a","host":"example.com","tags":${nested(100_000)}}]}`,
    graph,
    'kong.json',
  )
  assert.equal(json.ok, false)
  if (!json.ok)
    assert.deepEqual(json.problems[0]?.errors, {
      error: 'failed parsing declarative configuration: Found too many nested data structures (1001)',
    })
  // The YAML parser gives up on its own somewhere past 1,000 flow levels; either way a parse error.
  for (const depth of [1_050, 1_200, 50_000]) {
    const yaml = loadDeclarativeText(
      `_format_version: "3.0"\nservices:\n  - name: a\n    host: example.com\n    tags: ${nested(depth)}\n`,
      graph,
      'kong.yml',
    )
    assert.equal(yaml.ok, false)
    if (!yaml.ok) assert.match(String(yaml.problems[0]?.errors['error']), /^failed parsing declarative configuration: /)
  }
})

test('1,000 levels are still validated as usual (a schema error, not a parse error)', () => {
  const r = loadDeclarativeText(
    `{"_format_version":"3.0","services":[{"name":"a","host":"example.com","tags":${nested(MAX_DECLARATIVE_DEPTH - 4)}}]}`,
    graph,
    'kong.json',
  )
  assert.equal(r.ok, false)
  if (!r.ok) assert.doesNotMatch(JSON.stringify(r.problems), /too many nested/)
})

test('nestsDeeperThan: counts objects and arrays, shared (aliased) nodes where they appear, a cycle as too deep, never recurses', () => {
  assert.equal(nestsDeeperThan({ a: [{ b: 1 }] }, 3), false)
  assert.equal(nestsDeeperThan({ a: [{ b: {} }] }, 3), true)
  assert.equal(nestsDeeperThan('x', 0), false)
  const shared = { x: [1] }
  assert.equal(nestsDeeperThan({ a: shared, b: shared }, 3), false)
  const cyclic: Record<string, unknown> = {}
  cyclic['self'] = cyclic
  assert.equal(nestsDeeperThan(cyclic, 5), true)
  assert.equal(nestsDeeperThan(JSON.parse(nested(200_000)), 1_000), true)
})
