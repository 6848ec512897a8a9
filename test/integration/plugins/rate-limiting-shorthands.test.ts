/**
 * rate-limiting's deprecated flat `redis_*` fields (Kong 3.9 shorthands with
 * `deprecation.replaced_with`) through the real Admin API and `turnpike config`: written into
 * `redis.*`, shown again filled from there on every read, and left out of what a dump writes.
 *
 * Transcribed from Kong 3.9.3 spec/03-plugins/23-rate-limiting/06-shorthand_fields_spec.lua
 * ("POST/PATCH/GET request returns legacy fields", "successful PUT request returns legacy
 * fields", "get collection", "get paginated collection", "get plugins by route"), with the
 * mismatch message of kong/db/schema/init.lua `validate_deprecation_exclusiveness`.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { call, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { runTurnpike } from '../../helpers/cli.js'

const LEGACY = {
  redis_host: 'custom-host.example.test',
  redis_port: 55000,
  redis_username: 'test1',
  redis_password: 'testX',
  redis_database: 1,
  redis_timeout: 1100,
  redis_ssl: true,
  redis_ssl_verify: true,
  redis_server_name: 'example.test',
} as const

type Config = Record<string, unknown> & { redis: Record<string, unknown> }

/** The spec's `assert_redis_config_same`: written into `redis.*`, and shown under the old names too. */
function assertRedisConfigSame(expected: Record<string, unknown>, received: Config): void {
  for (const [name, value] of Object.entries(expected)) {
    if (!name.startsWith('redis_')) continue
    assert.deepEqual(received.redis[name.slice('redis_'.length)], value, `redis.${name.slice(6)}`)
    assert.deepEqual(received[name], value, name)
  }
}

describe('rate-limiting shorthand fields (06-shorthand_fields_spec.lua)', () => {
  let gw: TestGateway
  let routeId = ''
  let dir = ''

  before(async () => {
    gw = await startTestGateway()
    dir = mkdtempSync(join(tmpdir(), 'turnpike-shorthands-'))
    const route = await call('POST', `${gw.adminUrl}/routes`, { name: 'redis-route', hosts: ['redis.test'] })
    assert.equal(route.status, 201)
    routeId = route.body.id
  })
  after(async () => {
    await gw?.stop()
    if (dir !== '') rmSync(dir, { recursive: true, force: true })
  })

  test('POST/PATCH/GET request returns legacy fields', async () => {
    const id = randomUUID()
    const config = { minute: 100, policy: 'redis', ...LEGACY }
    const post = await call('POST', `${gw.adminUrl}/plugins`, { id, name: 'rate-limiting', route: { id: routeId }, config })
    assert.equal(post.status, 201, JSON.stringify(post.body))
    assertRedisConfigSame(config, post.body.config)

    const patch = await call('PATCH', `${gw.adminUrl}/plugins/${id}`, { name: 'rate-limiting', config: { redis_host: 'testhost' } })
    assert.equal(patch.status, 200, JSON.stringify(patch.body))
    const patched = { ...config, redis_host: 'testhost' }
    assertRedisConfigSame(patched, patch.body.config)

    const get = await call('GET', `${gw.adminUrl}/plugins/${id}`)
    assert.equal(get.status, 200)
    assertRedisConfigSame(patched, get.body.config)
    // 05-integration_spec.lua: the deprecation lines kong.deprecation writes for the flat fields
    for (const name of Object.keys(LEGACY)) {
      const field = name.slice('redis_'.length)
      await gw.waitForLog(
        new RegExp(
          `\\[warn\\].*rate-limiting: config\\.${name} is deprecated, please use config\\.redis\\.${field} instead \\(deprecated after 4\\.0\\)`,
        ),
      )
    }
    assert.equal((await call('DELETE', `${gw.adminUrl}/plugins/${id}`)).status, 204)
  })

  test('successful PUT request returns legacy fields', async () => {
    const id = randomUUID()
    const config = { minute: 100, policy: 'redis', ...LEGACY }
    const put = await call('PUT', `${gw.adminUrl}/plugins/${id}`, { name: 'rate-limiting', route: { id: routeId }, config })
    assert.equal(put.status, 200, JSON.stringify(put.body))
    assertRedisConfigSame(config, put.body.config)
    assert.equal((await call('DELETE', `${gw.adminUrl}/plugins/${id}`)).status, 204)
  })

  test('unset redis.* fields are shown as null under the old names; redis.* given too wins; a different value is refused', async () => {
    const plain = await call('POST', `${gw.adminUrl}/plugins`, { name: 'rate-limiting', route: { id: routeId }, config: { minute: 3 } })
    assert.equal(plain.status, 201, JSON.stringify(plain.body))
    assert.equal(plain.body.config.redis_host, null)
    assert.equal(plain.body.config.redis_port, 6379, 'the default of redis.port')
    assert.equal(plain.body.config.redis_password, null)
    assert.equal((await call('DELETE', `${gw.adminUrl}/plugins/${plain.body.id}`)).status, 204)

    const same = await call('POST', `${gw.adminUrl}/plugins`, {
      name: 'rate-limiting',
      route: { id: routeId },
      config: { minute: 3, redis_port: 6380, redis: { port: 6380 } },
    })
    assert.equal(same.status, 201, JSON.stringify(same.body))
    assert.equal(same.body.config.redis.port, 6380)
    assert.equal((await call('DELETE', `${gw.adminUrl}/plugins/${same.body.id}`)).status, 204)

    const mismatch = await call('POST', `${gw.adminUrl}/plugins`, {
      name: 'rate-limiting',
      route: { id: routeId },
      config: { minute: 3, redis_host: 'a.test', redis: { host: 'b.test' } },
    })
    assert.equal(mismatch.status, 400)
    assert.equal(
      mismatch.body.fields.config.redis_host,
      'both deprecated and new field are used but their values mismatch: redis_host = a.test vs redis.host = b.test',
    )
    const badType = await call('POST', `${gw.adminUrl}/plugins`, {
      name: 'rate-limiting',
      route: { id: routeId },
      config: { minute: 3, redis_port: 'x' },
    })
    assert.equal(badType.status, 400)
    assert.equal(badType.body.fields.config.redis_port, 'expected an integer')
  })

  test('get collection, paginated collection and plugins by route: every row shows the legacy fields', async () => {
    const base = 55000
    const ids: string[] = []
    for (let i = 1; i <= 6; i++) {
      const route = await call('POST', `${gw.adminUrl}/routes`, { name: `route-${i}`, hosts: [`redis${i}.test`] })
      assert.equal(route.status, 201)
      const res = await call('POST', `${gw.adminUrl}/plugins`, {
        name: 'rate-limiting',
        route: { id: route.body.id },
        config: {
          minute: 100 + i,
          policy: 'redis',
          ...LEGACY,
          redis_host: `custom-host${i}.example.test`,
          redis_port: base + i,
          redis_server_name: `example${i}.test`,
        },
      })
      assert.equal(res.status, 201, JSON.stringify(res.body))
      ids.push(res.body.id)
    }
    const expectedFor = (config: Config): Record<string, unknown> => {
      const i = (config.redis['port'] as number) - base
      return { ...LEGACY, redis_host: `custom-host${i}.example.test`, redis_port: base + i, redis_server_name: `example${i}.test` }
    }
    for (const path of ['/plugins', '/plugins?size=3', '/routes/route-1/plugins?size=50']) {
      const list = await call('GET', `${gw.adminUrl}${path}`)
      assert.equal(list.status, 200)
      assert.ok(list.body.data.length > 0, path)
      for (const plugin of list.body.data as { config: Config }[]) assertRedisConfigSame(expectedFor(plugin.config), plugin.config)
    }
    for (const id of ids) assert.equal((await call('DELETE', `${gw.adminUrl}/plugins/${id}`)).status, 204)
  })

  test('/schemas/plugins/rate-limiting lists the shorthands with their deprecation, as Kong', async () => {
    const res = await call('GET', `${gw.adminUrl}/schemas/plugins/rate-limiting`)
    assert.equal(res.status, 200)
    const config = (res.body.fields as Record<string, Record<string, unknown>>[]).find((f) => 'config' in f)?.['config']
    const shorthands = config?.['shorthand_fields'] as Record<string, Record<string, unknown>>[]
    const host = shorthands.find((s) => 'redis_host' in s)?.['redis_host']
    assert.deepEqual(host, {
      type: 'string',
      deprecation: {
        replaced_with: [{ path: ['redis', 'host'] }],
        message: 'rate-limiting: config.redis_host is deprecated, please use config.redis.host instead',
        removal_in_version: '4.0',
      },
    })
    const configFields = (config?.['fields'] as Record<string, unknown>[]).map((f) => Object.keys(f)[0])
    assert.ok(!configFields.includes('redis_host'), 'a shorthand, not a field')
  })

  test('config sync of a file using redis_host, then diff is empty and dump writes redis.host only', async () => {
    const file = join(dir, 'kong.yaml')
    writeFileSync(
      file,
      [
        '_format_version: "3.0"',
        'services:',
        '- name: limited',
        '  url: http://127.0.0.1:9',
        '  plugins:',
        '  - name: rate-limiting',
        '    config:',
        '      minute: 10',
        '      policy: redis',
        '      redis_host: cache.example.test',
        '      redis_port: 6390',
        '',
      ].join('\n'),
    )
    const admin = ['--admin-url', gw.adminUrl]
    const sync = await runTurnpike(['config', 'sync', file, '--select-tag', 'shorthands', ...admin])
    assert.equal(sync.status, 0, sync.stderr)
    const diff = await runTurnpike(['config', 'diff', file, '--select-tag', 'shorthands', ...admin])
    assert.equal(diff.status, 0, diff.stderr)
    assert.equal(diff.stdout, 'Summary:\n  Created: 0\n  Updated: 0\n  Deleted: 0\n')
    const dump = await runTurnpike(['config', 'dump', '--select-tag', 'shorthands', ...admin])
    assert.equal(dump.status, 0, dump.stderr)
    assert.doesNotMatch(dump.stdout, /redis_/)
    assert.match(dump.stdout, /\n {6}redis:\n(?: {8}.*\n)* {8}host: cache\.example\.test\n/)
    assert.match(dump.stdout, /\n {8}port: 6390\n/)
    // the dump synced back changes nothing either
    const dumped = join(dir, 'dumped.yaml')
    writeFileSync(dumped, dump.stdout)
    const again = await runTurnpike(['config', 'diff', dumped, ...admin])
    assert.equal(again.stdout, 'Summary:\n  Created: 0\n  Updated: 0\n  Deleted: 0\n', again.stderr)
  })
})
