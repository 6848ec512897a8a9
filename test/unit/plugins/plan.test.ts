/**
 * Kong's plugin scope precedence and execution order, decided at configuration time.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { PlanCompiler, PluginPlanError, resolveEntry, type PlanEntry } from '../../../src/plugins/plan.js'
import type { PluginRow } from '../../../src/plugins/entity.js'
import { PHASE_HANDLERS, PHASES } from '../../../src/plugins/phases.js'
import { checkPluginShape, PluginRegistry } from '../../../src/plugins/registry.js'
import type { AnyPlugin } from '../../../src/plugins/types.js'

const plugin = (name: string, priority: number, extra: Partial<AnyPlugin> = {}): AnyPlugin => ({
  name,
  version: '1.0.0',
  priority,
  schema: { config: {} },
  access() {},
  ...extra,
})
const registry = new PluginRegistry([
  plugin('key-auth', 1250),
  plugin('rate-limiting', 910),
  plugin('cors', 2000),
  plugin('acl', 950),
  plugin('request-transformer', 801),
  plugin('zz', 801),
])

let n = 0
const row = (
  name: string,
  scope: { route?: string; service?: string; consumer?: string } = {},
  extra: Partial<PluginRow> = {},
): PluginRow => ({
  id: `p${++n}`,
  name,
  instance_name: null,
  created_at: 1,
  updated_at: 1,
  enabled: true,
  protocols: ['http', 'https'],
  tags: null,
  ordering: null,
  route: scope.route === undefined ? null : { id: scope.route },
  service: scope.service === undefined ? null : { id: scope.service },
  consumer: scope.consumer === undefined ? null : { id: scope.consumer },
  config: { tag: `${name}:${scope.route ?? '-'}:${scope.service ?? '-'}:${scope.consumer ?? '-'}` },
  ...extra,
})
const tagOf = (e: PlanEntry | undefined, consumer: string | null): string | undefined =>
  e === undefined ? undefined : (resolveEntry(e, consumer)?.conf as { tag: string } | undefined)?.tag

describe('scope precedence (Kong: rsc, rc, sc, rs, c, r, s, global)', () => {
  const all = [
    row('rate-limiting'),
    row('rate-limiting', { service: 'S' }),
    row('rate-limiting', { route: 'R' }),
    row('rate-limiting', { consumer: 'C' }),
    row('rate-limiting', { route: 'R', service: 'S' }),
    row('rate-limiting', { service: 'S', consumer: 'C' }),
    row('rate-limiting', { route: 'R', consumer: 'C' }),
    row('rate-limiting', { route: 'R', service: 'S', consumer: 'C' }),
  ]
  // Drop the most specific one at a time and check the next one wins.
  const cases: [string, string | null][] = [
    ['rate-limiting:R:S:C', 'C'],
    ['rate-limiting:R:-:C', 'C'],
    ['rate-limiting:-:S:C', 'C'],
    ['rate-limiting:R:S:-', 'C'],
    ['rate-limiting:-:-:C', 'C'],
    ['rate-limiting:R:-:-', 'C'],
    ['rate-limiting:-:S:-', 'C'],
    ['rate-limiting:-:-:-', 'C'],
  ]
  cases.forEach(([expected], i) => {
    test(`with the ${i} most specific removed, ${expected} wins`, () => {
      const plans = new PlanCompiler(all.slice(0, all.length - i), registry)
      const plan = plans.planFor('R', 'S')
      assert.equal(tagOf(plan?.entries[0], 'C'), expected)
    })
  })

  test('without a consumer, consumer-scoped configs never apply', () => {
    const plans = new PlanCompiler([row('rate-limiting', { consumer: 'C' }), row('rate-limiting', { route: 'R' })], registry)
    const plan = plans.planFor('R', 'S')
    assert.equal(tagOf(plan?.entries[0], null), 'rate-limiting:R:-:-')
    assert.equal(tagOf(plan?.entries[0], 'C'), 'rate-limiting:-:-:C')
    assert.equal(tagOf(plan?.entries[0], 'other'), 'rate-limiting:R:-:-')
  })

  test('a route with no applicable plugin has no plan (the fast path)', () => {
    const plans = new PlanCompiler([row('rate-limiting', { route: 'R' })], registry)
    assert.equal(plans.planFor('other', 'S'), null)
    assert.notEqual(plans.planFor('R', 'S'), null)
  })

  test('a consumer-only plugin appears on every route, running only for that consumer', () => {
    const plans = new PlanCompiler([row('rate-limiting', { consumer: 'C' })], registry)
    const plan = plans.planFor('any', 'thing')
    assert.equal(plan?.entries[0]?.instance, null)
    assert.equal(tagOf(plan?.entries[0], 'C'), 'rate-limiting:-:-:C')
    assert.equal(resolveEntry(plan?.entries[0] as PlanEntry, null), null)
  })

  test('disabled instances and plugins not enabled on the node are skipped, with the reason', () => {
    const skipped: string[] = []
    const plans = new PlanCompiler([row('rate-limiting', {}, { enabled: false }), row('unknown-plugin')], registry, {
      onSkip: (_r, why) => skipped.push(why),
    })
    assert.equal(plans.planFor('R', 'S'), null)
    assert.deepEqual(skipped, ["plugin 'unknown-plugin' is not enabled on this node"])
  })

  test('protocols are decided per instance', () => {
    const plans = new PlanCompiler([row('cors', {}, { protocols: ['https'] })], registry)
    const inst = plans.planFor('R', null)?.entries[0]?.instance
    assert.equal(inst?.http, false)
    assert.equal(inst?.https, true)
  })
})

describe('execution order', () => {
  test('priority descending, equal priorities by name descending', () => {
    const plans = new PlanCompiler(
      [row('request-transformer'), row('zz'), row('key-auth'), row('cors'), row('rate-limiting'), row('acl')],
      registry,
    )
    assert.deepEqual(plans.order, ['cors', 'key-auth', 'acl', 'rate-limiting', 'zz', 'request-transformer'])
  })

  test('ordering.before/after moves a plugin within the access phase', () => {
    const plans = new PlanCompiler(
      [
        row('key-auth'),
        row('rate-limiting', {}, { ordering: { before: { access: ['key-auth'] }, after: null } }),
        row('cors', {}, { ordering: { before: null, after: { access: ['acl'] } } }),
        row('acl'),
      ],
      registry,
    )
    assert.deepEqual(plans.order, ['rate-limiting', 'key-auth', 'acl', 'cors'])
  })

  test('an ordering cycle refuses the configuration', () => {
    assert.throws(
      () =>
        new PlanCompiler(
          [
            row('key-auth', {}, { ordering: { before: { access: ['acl'] }, after: null } }),
            row('acl', {}, { ordering: { before: { access: ['key-auth'] }, after: null } }),
          ],
          registry,
        ),
      (err: unknown) => err instanceof PluginPlanError && /cycle between: .*key-auth.*acl|cycle between: .*acl.*key-auth/.test(err.message),
    )
  })

  test('prepare runs once per instance; a refusing prepare skips the instance', () => {
    let calls = 0
    const reg = new PluginRegistry([
      plugin('p', 10, { prepare: (c: { n: number }) => ({ doubled: c.n * 2, calls: ++calls }) }),
      plugin('bad', 5, {
        prepare: () => {
          throw new Error('nope')
        },
      }),
    ])
    const skipped: string[] = []
    const plans = new PlanCompiler([{ ...row('p'), config: { n: 21 } }, row('bad')], reg, { onSkip: (_r, why) => skipped.push(why) })
    const a = plans.planFor('R1', null)
    const b = plans.planFor('R2', null)
    assert.deepEqual(a?.entries[0]?.instance?.conf, { doubled: 42, calls: 1 })
    assert.equal(b?.entries[0]?.instance, a?.entries[0]?.instance)
    assert.equal(calls, 1)
    assert.match(skipped[0] ?? '', /plugin 'bad' refused its configuration: nope/)
  })
})

describe('phases', () => {
  test("every phase, in Kong's spelling, maps to the handler a plugin implements", () => {
    assert.deepEqual(
      PHASES.map((p) => PHASE_HANDLERS[p]),
      ['rewrite', 'access', 'headerFilter', 'bodyFilter', 'log'],
    )
  })

  test('global instances for a phase are those whose plugin has its handler', () => {
    const reg = new PluginRegistry([plugin('a', 10, { rewrite() {} }), plugin('b', 5, { headerFilter() {} })])
    const plans = new PlanCompiler([row('a'), row('b')], reg)
    assert.deepEqual(
      plans.globalsWith('rewrite').map((i) => i.name),
      ['a'],
    )
    assert.deepEqual(
      plans.globalsWith('header_filter').map((i) => i.name),
      ['b'],
    )
    assert.deepEqual(
      plans.globalsWith('access').map((i) => i.name),
      ['a', 'b'],
    )
  })

  test('a plugin whose phase handler is not a function is refused, naming the handler', () => {
    assert.throws(() => checkPluginShape({ ...plugin('x', 1), bodyFilter: 'nope' }, 'x'), /`bodyFilter` must be a function/)
  })
})
