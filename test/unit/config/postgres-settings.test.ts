/**
 * Kong's `pg_*` / `pg_ro_*` settings: Kong 3.9's defaults, its checks and messages, the password
 * redacted in `GET /`, and the store options a node opens (replica inheriting the `pg_*` values).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError } from '../../../src/config/index.js'
import { publicConfiguration } from '../../../src/config/redact.js'
import { storeOptions } from '../../../src/runtime/store-options.js'
import { load } from './helpers.js'

test('pg settings: Kong 3.9 defaults', () => {
  const c = load()
  assert.equal(c.pg_host, '127.0.0.1')
  assert.equal(c.pg_port, 5432)
  assert.equal(c.pg_user, 'kong')
  assert.equal(c.pg_database, 'kong')
  assert.equal(c.pg_password, null)
  assert.equal(c.pg_schema, null)
  assert.equal(c.pg_ssl, false)
  assert.equal(c.pg_ssl_verify, false)
  assert.equal(c.pg_timeout, 5000)
  assert.equal(c.pg_max_concurrent_queries, 0)
  assert.equal(c.pg_semaphore_timeout, 60000)
  assert.equal(c.pg_keepalive_timeout, null)
  assert.equal(c.pg_pool_size, null)
  assert.equal(c.pg_backlog, null)
  assert.equal(c.pg_ro_host, null)
  assert.equal(c.pg_ro_ssl, null)
  assert.equal(c.db_update_frequency, 5)
  assert.equal(c.db_update_propagation, 0)
})

test("db_update_frequency / db_update_propagation: numbers as in Kong's conf_loader (0 and below 0 load; Kong counts them as 0)", () => {
  const c = load({ overrides: { db_update_frequency: '0.5', db_update_propagation: '2' } })
  assert.equal(c.db_update_frequency, 0.5)
  assert.equal(c.db_update_propagation, 2)
  assert.equal(load({ overrides: { db_update_frequency: '0' } }).db_update_frequency, 0)
  assert.equal(load({ overrides: { db_update_frequency: '-1' } }).db_update_frequency, -1)
  // What Lua's tonumber reads, as Kong's conf_loader does: exponents, hexadecimal, a sign.
  for (const [text, n] of [
    ['1e1', 10],
    ['2.5E-1', 0.25],
    ['+3', 3],
    ['5.', 5],
    ['0x10', 16],
    ['-0x2', -2],
  ] as const)
    assert.equal(load({ overrides: { db_update_frequency: text } }).db_update_frequency, n, text)
  for (const name of ['db_update_frequency', 'db_update_propagation']) {
    for (const bad of ['', 'soon', '5s', '1e', '0x', 'inf', 'NaN', '1_000']) {
      assert.throws(
        () => load({ overrides: { [name]: bad } }),
        (err: unknown) => err instanceof ConfigError && err.message === `invalid ${name}: "${bad}": is not a number`,
      )
    }
  }
})

test("pg settings: Kong's checks and messages", () => {
  const cases: [Record<string, string>, string][] = [
    [{ pg_port: 'five' }, 'invalid pg_port: "five": is not a number'],
    [{ pg_timeout: '' }, 'invalid pg_timeout: "": is not a number'],
    [{ pg_ssl: 'yes' }, 'invalid pg_ssl: "yes": expected on, off, true or false'],
    [{ pg_max_concurrent_queries: '-1' }, 'invalid pg_max_concurrent_queries: "-1": must be greater than 0'],
    [{ pg_max_concurrent_queries: '1.5' }, 'invalid pg_max_concurrent_queries: "1.5": must be an integer greater than 0'],
    [{ pg_pool_size: '-3' }, 'invalid pg_pool_size: "-3": must be greater than 0'],
    [{ pg_backlog: '2.5' }, 'invalid pg_backlog: "2.5": must be an integer greater than 0'],
    [{ pg_keepalive_timeout: 'x' }, 'invalid pg_keepalive_timeout: "x": is not a number'],
    [{ pg_ro_pool_size: '0.5' }, 'invalid pg_ro_pool_size: "0.5": must be an integer greater than 0'],
    [{ pg_ro_ssl_verify: 'maybe' }, 'invalid pg_ro_ssl_verify: "maybe": expected on, off, true or false'],
  ]
  for (const [overrides, message] of cases) {
    assert.throws(
      () => load({ overrides }),
      (err: unknown) => err instanceof ConfigError && err.message === message,
      message,
    )
  }
  // Accepted-but-not-implemented pg settings still load.
  assert.equal(load({ overrides: { pg_ssl_version: 'tlsv1_2', pg_iam_auth: 'off' } }).raw['pg_ssl_version'], 'tlsv1_2')
})

test('pg settings: passwords are redacted in the public configuration, unset ones are not invented', () => {
  const c = load({ overrides: { database: 'postgres', pg_password: 's3cret', pg_ro_host: 'replica' } })
  const shown = publicConfiguration(c)
  assert.equal(shown['pg_password'], '******')
  assert.equal(shown['pg_ro_password'], null)
  assert.equal(JSON.stringify(shown).includes('s3cret'), false)
})

test('pg settings: the store a node opens, the replica inheriting pg_* values it does not set', () => {
  const c = load({
    overrides: {
      database: 'postgres',
      pg_host: 'db',
      pg_port: '6543',
      pg_password: 'pw',
      pg_schema: 'gw',
      pg_timeout: '2000',
      pg_max_concurrent_queries: '4',
      pg_pool_size: '8',
      pg_ro_host: 'replica',
      pg_ro_user: 'reader',
    },
  })
  const options = storeOptions(c)
  assert.equal(options.kind, 'postgres')
  if (options.kind !== 'postgres') return
  assert.equal(options.host, 'db')
  assert.equal(options.port, 6543)
  assert.equal(options.schema, 'gw')
  assert.equal(options.timeoutMs, 2000)
  assert.equal(options.maxConnections, 4)
  assert.deepEqual(
    { ...options.readOnly },
    {
      host: 'replica',
      port: 6543,
      user: 'reader',
      password: 'pw',
      database: 'kong',
      schema: 'gw',
      ssl: false,
      sslVerify: false,
      timeoutMs: 2000,
      maxConnections: 4,
      idleTimeoutMs: undefined,
      backlog: undefined,
    },
  )
  assert.equal(storeOptions(load({ overrides: { database: 'postgres' } })).kind, 'postgres')
  assert.equal((storeOptions(load({ overrides: { database: 'postgres' } })) as { readOnly?: unknown }).readOnly, undefined)
})
