/** rate-limiting's configuration rules (Kong 3.9 schema.lua) and its identifier/header logic. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { effectiveRedis, prepareRateLimiting, rateLimitHeaders } from '../../../../src/plugins/rate-limiting/handler.js'
import { type RateLimitingConfig, validatePeriods } from '../../../../src/plugins/rate-limiting/schema.js'
import { rateLimiting } from '../../../../src/plugins/rate-limiting/index.js'
import { pluginsEntity } from '../../../../src/plugins/entity.js'
import { PluginRegistry } from '../../../../src/plugins/registry.js'
import { validateEntity } from '../../../../src/schema/index.js'

const redis = {
  host: null,
  port: 6379,
  timeout: 2000,
  username: null,
  password: null,
  database: 0,
  ssl: false,
  ssl_verify: false,
  server_name: null,
}
const base: RateLimitingConfig = {
  second: null,
  minute: null,
  hour: null,
  day: null,
  month: null,
  year: null,
  header_name: null,
  path: null,
  redis,
  limit_by: 'consumer',
  policy: 'local',
  fault_tolerant: true,
  hide_client_headers: false,
  error_code: 429,
  error_message: 'API rate limit exceeded',
  sync_rate: -1,
  window_type: 'fixed',
}

describe('rate-limiting configuration', () => {
  test("Kong's period order check and sync_rate rules", () => {
    assert.equal(validatePeriods({ second: 5, minute: 10, hour: 10 }), undefined)
    assert.equal(validatePeriods({ second: 5, hour: 3 }), 'The limit for hour(3.0) cannot be lower than the limit for second(5.0)')
    assert.equal(validatePeriods({ minute: 5, sync_rate: 1, policy: 'local' }), 'sync_rate can only be used with the redis policy')
    assert.equal(validatePeriods({ minute: 5, sync_rate: 0.01, policy: 'redis' }), 'sync_rate must be greater than 0.02, or -1 to disable')
  })

  test('flat redis_* fields stored by an earlier Turnpike override redis.* (its defaults included)', () => {
    const legacy = { ...base, redis, redis_host: 'cache.local', redis_port: 6390, redis_password: 'pw' } as typeof base
    const r = effectiveRedis(legacy)
    assert.equal(r.host, 'cache.local')
    assert.equal(r.port, 6390)
    assert.equal(r.password, 'pw')
    assert.equal(r.timeout, 2000)
    assert.equal(r.database, 0)
  })

  test('headers: per period, and the most restrictive window (ties: the longer one) for RateLimit-*', () => {
    const conf = prepareRateLimiting({ ...base, second: 5, minute: 5, hour: 100 })
    const now = Date.UTC(2024, 0, 1, 10, 20, 30, 500)
    const { headers, reset } = rateLimitHeaders(conf, { ok: true, remaining: [4, 4, 99] }, now)
    assert.equal(headers['X-RateLimit-Limit-Second'], '5')
    assert.equal(headers['X-RateLimit-Remaining-Hour'], '99')
    assert.equal(headers['RateLimit-Limit'], '5')
    assert.equal(headers['RateLimit-Remaining'], '4')
    assert.equal(reset, 30, 'the minute wins the tie: 60 - 30 s elapsed')
    assert.equal(headers['RateLimit-Reset'], '30')
  })

  test("policy cluster: accepted with a database, refused without one with Kong's message, never with a sliding window", () => {
    const check = (database: string, config: Record<string, unknown>) => {
      const r = validateEntity(
        pluginsEntity(new PluginRegistry([rateLimiting]), { database }),
        { name: 'rate-limiting', config },
        { mode: 'insert' },
      )
      return r.ok ? null : r.errors
    }
    assert.equal(check('postgres', { minute: 5, policy: 'cluster' }), null)
    assert.equal(check('sqlite', { minute: 5, policy: 'cluster' }), null)
    assert.deepEqual(check('off', { minute: 5, policy: 'cluster' }), { config: { policy: 'expected one of: local, redis' } })
    assert.equal(check('off', { minute: 5, policy: 'local' }), null)
    assert.deepEqual(check('postgres', { minute: 5, policy: 'cluster', window_type: 'sliding' }), {
      config: { window_type: "window_type 'sliding' is not available with the 'cluster' policy: use 'local' or 'redis'" },
    })
    assert.deepEqual(check('postgres', { minute: 5, policy: 'cluster', sync_rate: 1 }), {
      config: { '@entity': ['sync_rate can only be used with the redis policy'] },
    })
  })

  test('a deprecated redis_* shorthand merged with a redis record holding __proto__: an unknown field, never a prototype', () => {
    const redisInput = JSON.parse('{"__proto__":{"port":1234}}') as Record<string, unknown>
    const r = validateEntity(
      pluginsEntity(new PluginRegistry([rateLimiting]), { database: 'sqlite' }),
      { name: 'rate-limiting', config: { minute: 5, policy: 'redis', redis_host: 'a.example', redis: redisInput } },
      { mode: 'insert' },
    )
    assert.equal(r.ok, false)
    assert.deepEqual(r.ok ? null : r.errors, { config: { redis: JSON.parse('{"__proto__":"unknown field"}') as unknown } })
  })
})
