/**
 * Every real kong.yml file from ../shared/kong/realworld-configs that this node's entity registry
 * accepts offline goes the two ways a Kong user loads it: DB-less (`POST /config`, 201) and
 * `turnpike config sync` against a database-backed gateway, after which `config diff` has nothing
 * left to do. The files are read from the shared folder, never copied into the project; which of
 * them load offline is decided by the declarative unit test (test/unit/declarative/).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
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
