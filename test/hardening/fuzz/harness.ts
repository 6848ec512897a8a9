/**
 * The Admin API fuzzer's harness: request shapes, their encoding, sending with a client timeout,
 * the store fingerprint (a full listing of every entity) and the properties every answer must
 * have (no 5xx, no hang, Kong's error body, no partial write, successful writes readable back).
 */
import fc from 'fast-check'
import { Agent, request } from 'undici'
import { Ref } from './arbitraries.js'
import { Obj, Raw, toJson, toMultipart, toPairs, toUrlencoded, type ArrayStyle, type Value } from './values.js'

/** Every request gives up after this long: a longer answer is a hang. */
export const CLIENT_TIMEOUT_MS = 5_000

/** Payloads per default run, and the seeds; see docs/testing.md#fuzzing-the-admin-api. */
export const FUZZ_RUNS = positiveInt(process.env['TURNPIKE_FUZZ_RUNS']) ?? 2_000
/** Fixed seed for the reproducible half of every run. */
export const FIXED_SEED = 20_261_206
/** The random half's seed: `TURNPIKE_FUZZ_SEED` replays a failure. */
export const RANDOM_SEED =
  Number.isInteger(Number(process.env['TURNPIKE_FUZZ_SEED'])) &&
  process.env['TURNPIKE_FUZZ_SEED'] !== undefined &&
  process.env['TURNPIKE_FUZZ_SEED'] !== ''
    ? Number(process.env['TURNPIKE_FUZZ_SEED'])
    : Math.floor(Math.random() * 2 ** 31)

function positiveInt(s: string | undefined): number | undefined {
  const n = Number(s)
  return s !== undefined && Number.isInteger(n) && n > 0 ? n : undefined
}

export type Encoding = 'json' | 'form' | 'multipart' | 'none' | 'wrong-type' | 'yaml'

/** One generated request, before references to live rows are resolved. */
export interface FuzzRequest {
  readonly method: string
  /** Path segments; a {@link Ref} is replaced by a live row's id or key. */
  readonly path: readonly (string | Ref | { readonly raw: string })[]
  readonly query: readonly [string, string][]
  readonly body: Obj | null
  readonly encoding: Encoding
  readonly arrayStyle: ArrayStyle
  readonly extraPairs: readonly [string, Buffer][]
  /** The JSON document as raw text instead of `body` (bad JSON, top-level arrays…). */
  readonly rawBody?: Buffer
}

/** The live rows a {@link Ref} picks from. */
export type Snapshot = Map<string, Map<string, Record<string, unknown>>>

const KEY_FIELDS = ['name', 'username', 'key', 'target', 'group', 'custom_id']

/** Resolves a reference against the current rows (an unknown UUID when there are none). */
export function resolveRef(ref: Ref, snap: Snapshot): string {
  const rows = [...(snap.get(ref.entity)?.values() ?? [])]
  const row = rows[ref.pick % Math.max(rows.length, 1)]
  if (row === undefined) return '00000000-0000-4000-8000-00000000f022'
  if (ref.by === 'key') for (const f of KEY_FIELDS) if (typeof row[f] === 'string') return row[f] as string
  return String(row['id'])
}

function resolveValue(v: Value | Ref, snap: Snapshot): Value {
  if (v instanceof Ref) return new Obj([['id', resolveRef(v, snap)]])
  if (v instanceof Obj) return new Obj(v.entries.map(([k, x]) => [k, resolveValue(x as Value | Ref, snap)]))
  if (Array.isArray(v)) return v.map((x) => resolveValue(x as Value | Ref, snap))
  return v
}

export interface Encoded {
  readonly method: string
  readonly path: string
  readonly headers: Record<string, string>
  readonly body: Buffer
  readonly request: FuzzRequest
}

/** Turns a generated request into bytes on the wire, with references resolved. */
export function encode(r: FuzzRequest, snap: Snapshot): Encoded {
  const path =
    '/' + r.path.map((s) => (typeof s === 'string' ? s : s instanceof Ref ? encodeURIComponent(resolveRef(s, snap)) : s.raw)).join('/')
  const qs = r.query.length === 0 ? '' : '?' + r.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')
  const headers: Record<string, string> = {}
  let body: Buffer = Buffer.alloc(0)
  const obj = r.body === null ? null : (resolveValue(r.body, snap) as Obj)
  switch (r.encoding) {
    case 'json':
      headers['content-type'] = 'application/json'
      body = r.rawBody ?? (obj === null ? Buffer.alloc(0) : toJson(obj))
      break
    case 'form': {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      body = toUrlencoded([...(obj === null ? [] : toPairs(obj, r.arrayStyle)), ...r.extraPairs])
      break
    }
    case 'multipart': {
      const boundary = 'fuzz7MA4YWxkTrZu0gW'
      headers['content-type'] = `multipart/form-data; boundary=${boundary}`
      body = toMultipart([...(obj === null ? [] : toPairs(obj, r.arrayStyle)), ...r.extraPairs], boundary, (i) => i % 3 === 2)
      break
    }
    case 'yaml':
      headers['content-type'] = 'application/x-yaml'
      body = r.rawBody ?? (obj === null ? Buffer.alloc(0) : toJson(obj))
      break
    case 'wrong-type':
      headers['content-type'] = 'text/plain'
      body = obj === null ? Buffer.from('x') : toJson(obj)
      break
    case 'none':
      break
  }
  return { method: r.method, path: path + qs, headers, body, request: r }
}

export interface Answer {
  readonly status: number
  readonly text: string
  readonly body: unknown
  readonly contentType: string
  readonly allow: string
}

/** Counts for the report. */
export class Stats {
  readonly statuses = new Map<number, number>()
  sent = 0
  fiveXx = 0
  hangs = 0
  partialWrites = 0
  readBacks = 0
  snapshots = 0
  record(status: number): void {
    this.sent++
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1)
  }
  summary(label: string, ms: number): string {
    const statuses = [...this.statuses.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([s, n]) => `${s}×${n}`)
      .join(' ')
    return `${label}: ${this.sent} payloads sent in ${(ms / 1000).toFixed(1)} s; statuses ${statuses}; 5xx ${this.fiveXx}; hangs ${this.hangs}; partial writes ${this.partialWrites}; writes read back ${this.readBacks}; store listings ${this.snapshots}`
  }
}

function jsonOrUndefined(text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

/** A keep-alive client for one gateway's Admin API. */
export class AdminClient {
  readonly base: string
  readonly #agent = new Agent({ connections: 4, keepAliveTimeout: 10_000 })
  constructor(base: string) {
    this.base = base
  }
  async send(method: string, path: string, headers: Record<string, string>, body: Buffer | null): Promise<Answer> {
    const res = await request(`${this.base}${path}`, {
      method: method as 'GET',
      headers,
      body: body === null || body.length === 0 ? (method === 'GET' || method === 'HEAD' ? null : body) : body,
      dispatcher: this.#agent,
      signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
    })
    const text = await res.body.text()
    const parsed = jsonOrUndefined(text)
    const ct = res.headers['content-type']
    const allow = res.headers['allow']
    return {
      status: res.statusCode,
      text,
      body: parsed,
      contentType: Array.isArray(ct) ? (ct[0] ?? '') : (ct ?? ''),
      allow: Array.isArray(allow) ? allow.join(', ') : (allow ?? ''),
    }
  }
  async json(method: string, path: string, body?: unknown): Promise<Answer> {
    return this.send(
      method,
      path,
      body === undefined ? {} : { 'content-type': 'application/json' },
      body === undefined ? null : Buffer.from(JSON.stringify(body)),
    )
  }
  close(): Promise<void> {
    return this.#agent.close()
  }
}

/** Kong's database error names by code (src/errors/db-errors.ts). */
const DB_ERROR_NAMES: Readonly<Record<number, string>> = {
  1: 'invalid primary key',
  2: 'schema violation',
  3: 'primary key violation',
  4: 'foreign key violation',
  5: 'unique constraint violation',
  6: 'not found',
  7: 'invalid offset',
  8: 'database error',
  9: 'invalid size',
  10: 'invalid unique',
  11: 'invalid options',
  12: 'operation unsupported',
  13: 'foreign keys unresolved',
  14: 'invalid declarative configuration',
  15: 'transformation error',
  16: 'invalid foreign key',
  17: 'invalid workspace',
  18: 'invalid global query',
  19: 'referenced by others',
}

/** Why a 4xx answer is not in Kong's error format, or null. */
export function errorFormatProblem(method: string, a: Answer): string | null {
  // Kong answers an unsupported body type with an empty 415 (lapis), kept as is.
  if (method === 'HEAD' || (a.status === 415 && a.text === '')) return null
  if (!a.contentType.startsWith('application/json')) return `content-type ${a.contentType}`
  const b = a.body
  if (typeof b !== 'object' || b === null || Array.isArray(b)) return 'body is not a JSON object'
  const body = b as Record<string, unknown>
  if (typeof body['message'] !== 'string' || body['message'] === '') return 'no message'
  if ('code' in body) {
    const code = body['code']
    if (typeof code !== 'number' || DB_ERROR_NAMES[code] === undefined) return `unknown code ${String(code)}`
    const name = String(body['name'])
    // Kong names code 10 after its field (kong/db/errors.lua: `invalid unique %s`).
    const named = name === DB_ERROR_NAMES[code] || (code === 10 && /^invalid unique [a-z_]+$/.test(name))
    if (!named) return `code ${code} named ${name}`
    if (code === 2 && (typeof body['fields'] !== 'object' || body['fields'] === null)) return 'schema violation without fields'
    if (code === 14 && typeof body['fields'] !== 'object' && !Array.isArray(body['flattened_errors']))
      return 'declarative error without fields'
  }
  return null
}

/** Sends one encoded request, checking the per-answer properties. */
export async function sendChecked(client: AdminClient, e: Encoded, stats: Stats): Promise<Answer> {
  let a: Answer
  try {
    a = await client.send(e.method, e.path, e.headers, e.body)
  } catch (err) {
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
      stats.hangs++
      throw new Error(`hang: no answer within ${CLIENT_TIMEOUT_MS} ms to ${describe(e)}`)
    }
    throw new Error(`${String(err)} (connection broken?) on ${describe(e)}`)
  }
  stats.record(a.status)
  if (a.status >= 500) {
    stats.fiveXx++
    throw new Error(`${a.status} ${a.text.slice(0, 300)} on ${describe(e)}`)
  }
  // A request line or headers too long for the HTTP parser never reach the Admin API: as nginx
  // in front of Kong's, it answers with nginx's own HTML page (Kong's Admin API has no error handler).
  // So is a body over nginx_admin_client_max_body_size (nginx's 413 page).
  const parserRefusal =
    a.status === 414 ||
    (a.status === 400 && a.text.includes('Request Header Or Cookie Too Large')) ||
    (a.status === 413 && a.text.includes('413 Request Entity Too Large'))
  if (a.status >= 400 && !parserRefusal) {
    const problem = errorFormatProblem(e.method, a)
    if (problem !== null) throw new Error(`${a.status} not in Kong's error format (${problem}): ${a.text.slice(0, 300)} on ${describe(e)}`)
  }
  return a
}

/** A short description of a request for failure messages. */
export function describe(e: Encoded): string {
  const body = e.body.length > 400 ? `${e.body.subarray(0, 400).toString('utf8')}… (${e.body.length} bytes)` : e.body.toString('utf8')
  return `${e.method} ${e.path.length > 300 ? e.path.slice(0, 300) + '…' : e.path} [${e.headers['content-type'] ?? 'no content-type'}] ${body}`
}

/**
 * Runs a property over `numRuns` payloads; on failure, throws a short error with the seed, the
 * path that replays it and the first broken property (fast-check's own report prints the whole
 * counterexample, which can be megabytes).
 */
export async function assertProperty<T>(
  arb: fc.Arbitrary<T>,
  check: (v: T) => Promise<void>,
  seed: number,
  numRuns: number,
): Promise<void> {
  let first: string | undefined
  const property = fc.asyncProperty(arb, async (v) => {
    try {
      await check(v)
    } catch (err) {
      first ??= err instanceof Error ? err.message : String(err)
      throw err
    }
  })
  const details = await fc.check(property, params(seed, numRuns))
  if (details.failed) {
    throw new Error(
      `property failed (replay: TURNPIKE_FUZZ_SEED=${seed} with fast-check path "${details.counterexamplePath ?? ''}"): ${first ?? String(details.errorInstance)}`,
    )
  }
}

/**
 * One half of a fuzz run: `numRuns` payloads from `seed`, then the counts (logged even on
 * failure) and the run-level properties (no 5xx, hang or partial write; most payloads sent).
 */
export async function fuzzRun<T>(
  label: string,
  seed: number,
  numRuns: number,
  arb: fc.Arbitrary<T>,
  check: (v: T, stats: Stats) => Promise<void>,
  log: (s: string) => void,
): Promise<Stats> {
  const stats = new Stats()
  const started = Date.now()
  try {
    await assertProperty(arb, (v) => check(v, stats), seed, numRuns)
  } finally {
    log(stats.summary(`${label} (seed ${seed})`, Date.now() - started))
  }
  if (stats.fiveXx + stats.hangs + stats.partialWrites !== 0)
    throw new Error(`${stats.fiveXx} 5xx, ${stats.hangs} hangs, ${stats.partialWrites} partial writes`)
  if (stats.sent < numRuns * 0.85) throw new Error(`only ${stats.sent} of ${numRuns} payloads were sent`)
  return stats
}

/** fast-check parameters for one half (fixed or random seed) of a run. */
export function params(seed: number, numRuns: number): fc.Parameters<unknown> {
  return { seed, numRuns, endOnFailure: true, verbose: 1, interruptAfterTimeLimit: 10 * 60_000 }
}

export { Raw }
