/**
 * `policy = redis`: counters in Redis, exact across nodes. One Lua script per request checks every
 * window and, only if all allow it, increments them and sets their expiry — one round trip, atomic
 * (Kong reads, then increments later in a timer, so concurrent requests slip past the limit).
 *
 * Connections (ioredis) are shared per Redis configuration within a worker. Commands never queue
 * while Redis is unreachable: they fail at once (or after `redis.timeout`) so that
 * `fault_tolerant` can decide. ioredis itself is loaded with the first connection: a worker
 * without a Redis policy does not hold it in memory.
 *
 * @module
 */
import type { Redis, RedisOptions } from 'ioredis'
import type { TakeResult } from '../../../counters/client.js'
import type { CounterItem } from '../../../counters/messages.js'
import type { RedisConfig } from '../schema.js'

/**
 * KEYS: per item its current and previous window keys. ARGV: now, item count, then per item limit,
 * start, end, sliding (1/0), ttl ms. Returns `{ok, allowance_1, …}` (allowance before this hit).
 */
const SCRIPT = `
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local out = {}
local ok = 1
for i = 1, n do
  local b = 2 + (i - 1) * 5
  local limit = tonumber(ARGV[b + 1])
  local start = tonumber(ARGV[b + 2])
  local stop = tonumber(ARGV[b + 3])
  local cur = tonumber(redis.call('GET', KEYS[2 * i - 1]) or '0')
  local allowed = limit - cur
  if ARGV[b + 4] == '1' then
    local prev = tonumber(redis.call('GET', KEYS[2 * i]) or '0')
    local elapsed = math.min(math.max(now - start, 0), stop - start)
    allowed = math.floor(limit - prev * ((stop - start - elapsed) / (stop - start)) + 1e-9) - cur
  end
  out[i + 1] = allowed
  if allowed < 1 then ok = 0 end
end
if ok == 1 then
  for i = 1, n do
    local k = KEYS[2 * i - 1]
    if redis.call('INCR', k) == 1 then
      redis.call('PEXPIRE', k, tonumber(ARGV[2 + (i - 1) * 5 + 5]))
    end
  end
end
out[1] = ok
return out
`

type RateLimitRedis = Redis & { turnpikeTake(numKeys: number, ...args: (string | number)[]): Promise<number[]> }

interface Conn {
  /** Settles once ioredis is loaded and the client made (it connects on first use). */
  readonly redis: Promise<RateLimitRedis>
  readonly label: string
  readonly timeout: number
  lastError: string | null
}

const connections = new Map<string, Conn>()

function connect(cfg: RedisConfig): Conn {
  const id = JSON.stringify(cfg)
  const existing = connections.get(id)
  if (existing !== undefined) return existing
  const timeout = cfg.timeout ?? 2000
  const options: RedisOptions = {
    host: cfg.host ?? '127.0.0.1',
    port: cfg.port ?? 6379,
    db: cfg.database ?? 0,
    connectTimeout: timeout,
    commandTimeout: timeout,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(times * 100, 1000),
    ...(cfg.username !== null ? { username: cfg.username } : {}),
    ...(cfg.password !== null && cfg.password !== '' ? { password: cfg.password } : {}),
    ...(cfg.ssl === true
      ? { tls: { rejectUnauthorized: cfg.ssl_verify === true, ...(cfg.server_name !== null ? { servername: cfg.server_name } : {}) } }
      : {}),
  }
  const conn: Conn = {
    redis: import('ioredis').then(({ Redis: RedisClient }) => {
      const redis = new RedisClient(options) as RateLimitRedis
      redis.defineCommand('turnpikeTake', { lua: SCRIPT })
      // Errors surface on commands; the event only keeps the latest reason (and avoids an unhandled error).
      redis.on('error', (err: Error) => {
        conn.lastError = err.message
      })
      return redis
    }),
    label: `${options.host ?? ''}:${options.port ?? 6379}`,
    timeout,
    lastError: null,
  }
  connections.set(id, conn)
  return conn
}

/** Waits (at most the command timeout) for the connection to be usable; returns its client. */
async function ready(conn: Conn): Promise<RateLimitRedis> {
  const r = await conn.redis
  if (r.status === 'ready') return r
  if (r.status === 'wait' || r.status === 'end' || r.status === 'close') {
    r.connect().catch(() => {})
  }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup()
      reject(new Error(`could not connect within ${conn.timeout} ms${conn.lastError !== null ? ` (${conn.lastError})` : ''}`))
    }, conn.timeout)
    const onReady = (): void => {
      cleanup()
      resolve()
    }
    const onError = (err: Error): void => {
      cleanup()
      reject(err)
    }
    const cleanup = (): void => {
      clearTimeout(timer)
      r.off('ready', onReady)
      r.off('error', onError)
    }
    r.once('ready', onReady)
    r.once('error', onError)
  })
  return r
}

/** Thrown when Redis cannot answer; `message` says why, naming the server. */
export class RedisUnavailable extends Error {
  override readonly name = 'RedisUnavailable'
}

export class RedisPolicy {
  readonly #conn: Conn

  constructor(cfg: RedisConfig) {
    this.#conn = connect(cfg)
  }

  get label(): string {
    return this.#conn.label
  }

  async take(items: readonly CounterItem[], sliding: boolean): Promise<TakeResult> {
    const conn = this.#conn
    const keys: string[] = []
    const args: (string | number)[] = [Date.now(), items.length]
    for (const it of items) {
      keys.push(it.key, it.prevKey ?? it.key)
      const size = it.end - it.start
      // A window's counter must outlive the next window when it is weighed in (sliding).
      const ttl = Math.max(1000, it.end - Date.now() + (sliding ? size : 0) + 1000)
      args.push(it.limit, it.start, it.end, sliding ? 1 : 0, ttl)
    }
    let reply: number[]
    try {
      const redis = await ready(conn)
      reply = await redis.turnpikeTake(keys.length, ...keys, ...args)
    } catch (err) {
      throw new RedisUnavailable(`Redis at ${conn.label} did not answer: ${(err as Error).message}`)
    }
    const ok = reply[0] === 1
    const remaining = items.map((_, i) => {
      const allowed = Number(reply[i + 1] ?? 0)
      return ok ? allowed - 1 : Math.max(0, allowed)
    })
    return { ok, remaining }
  }
}

/** Closes every Redis connection of this process (tests). */
export async function closeRedisConnections(): Promise<void> {
  const all = [...connections.values()]
  connections.clear()
  await Promise.all(
    all.map(async (c) => {
      const redis = await c.redis
      await redis.quit().catch(() => redis.disconnect())
    }),
  )
}
