/**
 * acl's decision (allow / deny, header value) and its access handler over a recording PDK:
 * consumer groups, authenticated groups (`always_use_authenticated_groups`), 401 vs 403, and the
 * log line naming the consumer, its groups and the rule.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Credential, EntityRow } from '../../../../src/pdk/types.js'
import { aclAccess, decide, prepareAcl } from '../../../../src/plugins/acl/handler.js'
import { acl } from '../../../../src/plugins/acl/index.js'
import type { AclConfig } from '../../../../src/plugins/acl/schema.js'
import { ALICE, ANON, fakePdk } from '../key-auth/fake-pdk.js'

const DEFAULTS: AclConfig = { allow: null, deny: null, hide_groups_header: false, always_use_authenticated_groups: false }
const CRED: Credential = { id: 'c1', consumer: { id: ALICE.id } }
const ACLS: EntityRow[] = [
  { id: 'a1', consumer: { id: ALICE.id }, group: 'admin' },
  { id: 'a2', consumer: { id: ALICE.id }, group: 'dev' },
]

describe('acl: plugin definition', () => {
  test("Kong's name, priority, checks", () => {
    assert.equal(acl.name, 'acl')
    assert.equal(acl.priority, 950)
    assert.equal(acl.schema.no_consumer, true)
    assert.deepEqual(acl.schema.config_checks, [{ only_one_of: ['allow', 'deny'] }, { at_least_one_of: ['allow', 'deny'] }])
  })
})

describe('acl: decide', () => {
  test('allow / deny and the header value', () => {
    assert.equal(decide(prepareAcl({ ...DEFAULTS, allow: ['admin'] }), ['dev', 'admin']), 'dev, admin')
    assert.equal(decide(prepareAcl({ ...DEFAULTS, allow: ['admin'] }), ['dev']), true)
    assert.equal(decide(prepareAcl({ ...DEFAULTS, allow: ['admin'] }), []), true)
    assert.equal(decide(prepareAcl({ ...DEFAULTS, deny: ['admin'] }), ['admin']), true)
    assert.equal(decide(prepareAcl({ ...DEFAULTS, deny: ['admin'] }), ['dev']), 'dev')
    assert.equal(decide(prepareAcl({ ...DEFAULTS, deny: ['admin'] }), []), '')
  })
})

describe('acl: access handler', () => {
  const run = (
    conf: Partial<AclConfig>,
    auth: { consumer?: typeof ALICE; credential?: Credential | null; shared?: Record<string, unknown> },
  ) => {
    const { kong, rec } = fakePdk({ acls: ACLS, shared: auth.shared ?? {} })
    if (auth.consumer !== undefined) kong.client.authenticate(auth.consumer, auth.credential ?? null)
    aclAccess(kong, prepareAcl({ ...DEFAULTS, ...conf }))
    return rec
  }
  test('allowed: X-Consumer-Groups upstream unless hidden', () => {
    assert.equal(run({ allow: ['dev'] }, { consumer: ALICE, credential: CRED }).upstream.get('x-consumer-groups'), 'admin, dev')
    const hidden = run({ allow: ['dev'], hide_groups_header: true }, { consumer: ALICE, credential: CRED })
    assert.equal(hidden.exit, null)
    assert.equal(hidden.upstream.has('x-consumer-groups'), false)
  })
  test('blocked: 403 with the reason logged', () => {
    const rec = run({ allow: ['ops'] }, { consumer: ALICE, credential: CRED })
    assert.deepEqual(rec.exit, { status: 403, message: 'You cannot consume this service', headers: undefined })
    assert.match(
      rec.logs[0]?.text ?? '',
      /^403 "You cannot consume this service" on route "my-route" \(r-1\): consumer "alice" \([^)]+\) has groups \["admin", "dev"\]; none of them is allowed \(allow = \["ops"\]\)/,
    )
  })
  test('nobody authenticated: 401; authenticated groups alone are enough', () => {
    const none = run({ allow: ['x'] }, {})
    assert.deepEqual(none.exit, { status: 401, message: undefined, headers: undefined })
    assert.match(none.logs[0]?.text ?? '', /no consumer is authenticated/)
    const groups = run({ allow: ['ldap-admins'] }, { shared: { authenticated_groups: ['ldap-admins'] } })
    assert.equal(groups.exit, null)
    assert.equal(groups.upstream.get('x-authenticated-groups'), 'ldap-admins')
  })
  test('anonymous consumer: authenticated groups win; always_use_authenticated_groups extends that to real consumers', () => {
    const anon = run({ allow: ['g'] }, { consumer: ANON, shared: { authenticated_groups: ['g'] } })
    assert.equal(anon.exit, null)
    const real = run({ allow: ['g'] }, { consumer: ALICE, credential: CRED, shared: { authenticated_groups: ['g'] } })
    assert.equal(real.exit?.status, 403, 'by default a real consumer uses its own groups')
    const always = run(
      { allow: ['g'], always_use_authenticated_groups: true },
      { consumer: ALICE, credential: CRED, shared: { authenticated_groups: ['g'] } },
    )
    assert.equal(always.exit, null)
    assert.equal(always.upstream.get('x-authenticated-groups'), 'g')
  })
})
