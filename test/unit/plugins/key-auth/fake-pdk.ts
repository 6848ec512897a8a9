/**
 * A minimal recording PDK for unit tests of auth handlers: request headers/query/method in,
 * upstream header changes, authentication, exits and log lines out. Only what key-auth,
 * basic-auth and acl use is implemented.
 */
import type { Consumer, Credential, EntityRow, Pdk } from '../../../../src/pdk/types.js'

export interface FakeRequest {
  method?: string
  headers?: Record<string, string | string[]>
  query?: string
  route?: EntityRow | null
  consumers?: Consumer[]
  credentials?: Record<string, Record<string, EntityRow>>
  acls?: EntityRow[]
  shared?: Record<string, unknown>
}

export interface Recorded {
  upstream: Map<string, string | string[] | null>
  query: string | null | undefined
  body: Buffer | undefined
  consumer: Consumer | null
  credential: Credential | null
  exit: { status: number; message: string | undefined; headers: Record<string, unknown> | undefined } | null
  logs: { level: string; text: string }[]
}

export function fakePdk(r: FakeRequest = {}): { kong: Pdk; rec: Recorded } {
  const rec: Recorded = { upstream: new Map(), query: undefined, body: undefined, consumer: null, credential: null, exit: null, logs: [] }
  const headers: Record<string, string | string[]> = {}
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = v
  const rawQuery = r.query ?? ''
  const query: Record<string, string | true | (string | true)[]> = {}
  for (const part of rawQuery.split('&').filter((p) => p !== '')) {
    const eq = part.indexOf('=')
    const k = decodeURIComponent(eq === -1 ? part : part.slice(0, eq))
    const v: string | true = eq === -1 ? true : decodeURIComponent(part.slice(eq + 1))
    const prev = query[k]
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]
  }
  const consumers = r.consumers ?? []
  const log =
    (level: string) =>
    (...parts: unknown[]) =>
      rec.logs.push({ level, text: parts.map(String).join(' ') })
  const kong = {
    request: {
      getMethod: () => r.method ?? 'GET',
      getHeader: (n: string) => {
        const v = headers[n.toLowerCase()]
        return Array.isArray(v) ? v[0] : v
      },
      getHeaders: () => headers,
      getQuery: () => query,
      getRawQuery: () => rawQuery,
      getRawBody: async () => Buffer.alloc(0),
    },
    client: {
      getConsumer: () => rec.consumer,
      getCredential: () => rec.credential,
      authenticate: (c: Consumer | null, cr: Credential | null) => {
        rec.consumer = c
        rec.credential = cr
      },
    },
    service: {
      request: {
        setHeader: (n: string, v: string | string[]) => rec.upstream.set(n.toLowerCase(), v),
        clearHeader: (n: string) => rec.upstream.set(n.toLowerCase(), null),
        setRawQuery: (q: string) => (rec.query = q === '' ? null : q),
        setRawBody: (b: string | Buffer) => (rec.body = Buffer.from(b)),
      },
    },
    response: {
      error: (status: number, message?: string, h?: Record<string, unknown>) => (rec.exit = { status, message, headers: h }),
    },
    router: { getRoute: () => (r.route === undefined ? { id: 'r-1', name: 'my-route' } : r.route) },
    log: { debug: log('debug'), info: log('info'), notice: log('notice'), warn: log('warn'), err: log('error'), crit: log('crit') },
    ctx: { shared: r.shared ?? {}, plugin: {} },
    entities: {
      select: (entity: string, id: string) => (entity === 'consumers' ? (consumers.find((c) => c.id === id) ?? null) : null),
      selectByUnique: (entity: string, field: string, value: unknown) => r.credentials?.[`${entity}.${field}`]?.[String(value)] ?? null,
      listByForeign: (entity: string, _field: string, id: string) =>
        entity === 'acls' ? (r.acls ?? []).filter((a) => (a['consumer'] as { id: string }).id === id) : [],
      consumer: (x: string) => consumers.find((c) => c.id === x) ?? consumers.find((c) => c.username === x) ?? null,
    },
  }
  return { kong: kong as unknown as Pdk, rec }
}

export const ALICE: Consumer = { id: '11111111-1111-4111-8111-111111111111', username: 'alice', custom_id: 'c-1' }
export const ANON: Consumer = { id: '22222222-2222-4222-8222-222222222222', username: 'anon', custom_id: null }
