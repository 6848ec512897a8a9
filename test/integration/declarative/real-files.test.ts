/**
 * Every real kong.yml file from ../shared/kong/realworld-configs that this node's entity registry
 * accepts offline goes the two ways a Kong user loads it: DB-less (`POST /config`, 201) and
 * `turnpike config sync` against a database-backed gateway, after which `config diff` has nothing
 * left to do. The files are read from the shared folder, never copied into the project; which of
 * them load offline is decided by the declarative unit test (test/unit/declarative/).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, call, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { runTurnpike } from '../../helpers/cli.js'
import { entityRegistry } from '../../../src/plugins/entity.js'
import { loadPlugins } from '../../../src/plugins/registry.js'
import { entityGraph, loadDeclarativeText } from '../../../src/declarative/index.js'

const REAL =
  [join(ROOT, '..', 'shared', 'kong', 'realworld-configs'), '/work/shared/kong/realworld-configs'].find((d) => existsSync(d)) ??
  '/work/shared/kong/realworld-configs'

const summary = /Created: 0\n {2}Updated: 0\n {2}Deleted: 0/

describe('real kong.yml files: DB-less and config sync', async () => {
  const graph = entityGraph(entityRegistry(await loadPlugins(['bundled'], null)))
  const loadable = readdirSync(REAL)
    .sort()
    .filter((f) => loadDeclarativeText(readFileSync(join(REAL, f), 'utf8'), graph, f).ok)
  let dbless: TestGateway
  let db: TestGateway
  before(async () => {
    await Promise.all([
      startTestGateway({ settings: { database: 'off' } }).then((g) => (dbless = g)),
      startTestGateway().then((g) => (db = g)),
    ])
  })
  after(async () => {
    await Promise.all([dbless?.stop(), db?.stop()])
  })

  test('most of the files load offline', () => assert.ok(loadable.length >= 14, loadable.join('\n')))

  for (const file of readdirSync(REAL).sort()) {
    test(file, async (t) => {
      if (!loadable.includes(file)) return t.skip('refused offline (see test/unit/declarative/declarative.test.ts)')
      const path = join(REAL, file)
      const res = await call('POST', `${dbless.adminUrl}/config`, readFileSync(path, 'utf8'), { 'content-type': 'text/yaml' })
      assert.equal(res.status, 201, res.text)
      const sync = await runTurnpike(['config', 'sync', path, '--admin-url', db.adminUrl], {}, 120_000)
      assert.equal(sync.status, 0, sync.stderr + sync.stdout.slice(-2000))
      const diff = await runTurnpike(['config', 'diff', path, '--admin-url', db.adminUrl], {}, 120_000)
      assert.equal(diff.status, 0, diff.stderr)
      assert.match(diff.stdout, summary, diff.stdout.slice(0, 3000))
    })
  }
})

describe('config sync replaces a row that a new one takes the name of', () => {
  let gw: TestGateway
  let dir: string
  before(async () => {
    gw = await startTestGateway()
    dir = mkdtempSync(join(tmpdir(), 'turnpike-replace-'))
  })
  after(async () => {
    await gw?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  test('the old service and its route (same names, other ids) are deleted before the new ones are created, as decK does', async () => {
    const file = (svc: string, route: string): string => {
      const path = join(dir, `${svc}.yaml`)
      writeFileSync(
        path,
        `_format_version: "3.0"\nservices:\n- id: ${svc}\n  name: svc1\n  host: a.test\n  routes:\n  - id: ${route}\n    name: r1\n    paths: [/r1]\n  - name: r-extra-${svc.slice(0, 4)}\n    paths: [/x-${svc.slice(0, 4)}]\n`,
      )
      return path
    }
    const sync = (path: string) => runTurnpike(['config', 'sync', path, '--admin-url', gw.adminUrl])
    const first = await sync(file('11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'))
    assert.equal(first.status, 0, first.stderr)
    const second = await sync(file('33333333-3333-4333-8333-333333333333', '44444444-4444-4444-8444-444444444444'))
    assert.equal(second.status, 0, second.stderr + second.stdout)
    assert.equal((await call('GET', `${gw.adminUrl}/services/svc1`)).body.id, '33333333-3333-4333-8333-333333333333')
    assert.equal((await call('GET', `${gw.adminUrl}/routes/r1`)).body.id, '44444444-4444-4444-8444-444444444444')
    assert.equal((await call('GET', `${gw.adminUrl}/routes`)).body.data.length, 2)
  })
})
