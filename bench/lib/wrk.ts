/**
 * wrk invocation and result parsing. wrk prints its own human summary; the Lua `done` hook below adds
 * one machine-readable line (`BENCH_JSON {...}`) that {@link parseWrkOutput} reads. Latencies are in
 * microseconds, as wrk records them.
 */

export interface WrkResult {
  readonly requests: number
  readonly durationUs: number
  readonly bytes: number
  readonly errors: {
    readonly connect: number
    readonly read: number
    readonly write: number
    readonly status: number
    readonly timeout: number
  }
  readonly p50Us: number
  readonly p90Us: number
  readonly p99Us: number
  readonly maxUs: number
  readonly meanUs: number
  /** requests / duration */
  readonly rps: number
}

export const RESULT_MARKER = 'BENCH_JSON '

/** The `done` hook shared by every script: one JSON line with the totals and the latency percentiles. */
export const DONE_LUA = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\n${RESULT_MARKER}{"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.2f}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
`

/** Headers for every request (e.g. an API key), as a Lua table literal. */
function luaHeaders(headers: Readonly<Record<string, string>>): string {
  return `{${Object.entries(headers)
    .map(([k, v]) => `[${JSON.stringify(k)}]=${JSON.stringify(v)}`)
    .join(',')}}`
}

/**
 * A wrk script. `paths` cycles the request path over a list (router scenarios); `rate` paces the
 * load to that many requests/second over all connections of a thread with wrk's `delay` hook (see
 * {@link pacedLua}); otherwise wrk runs closed-loop, as fast as it can.
 */
export function wrkScript(opts: { paths?: readonly string[]; headers?: Readonly<Record<string, string>>; ratePerThread?: number }): string {
  const parts: string[] = []
  const headers = opts.headers ?? {}
  if (opts.paths !== undefined && opts.paths.length > 0) {
    parts.push(`local paths = {${opts.paths.map((p) => JSON.stringify(p)).join(',')}}
local n = #paths
local i = 0
local hdrs = ${luaHeaders(headers)}
request = function()
  i = i % n + 1
  return wrk.format("GET", paths[i], hdrs)
end`)
  } else if (Object.keys(headers).length > 0) {
    parts.push(`wrk.headers = wrk.headers or {}\nfor k, v in pairs(${luaHeaders(headers)}) do wrk.headers[k] = v end`)
  }
  if (opts.ratePerThread !== undefined) parts.push(pacedLua(opts.ratePerThread))
  parts.push(DONE_LUA)
  return parts.join('\n')
}

/**
 * Pacing with wrk's `delay` hook: one schedule per wrk thread (a thread has one Lua state), a slot
 * every 1000/rate ms; each connection, when its response is complete, takes the next free slot and
 * waits until then. The clock is CLOCK_MONOTONIC through LuaJIT's FFI. When the target falls behind
 * (a slot already passed) the request leaves at once and the schedule restarts from now, so a stall
 * never turns into a burst. wrk's timers have 1 ms resolution; wrk's latency clock starts when the
 * request is written, after the delay.
 */
export function pacedLua(ratePerThread: number): string {
  const interval = 1000 / ratePerThread
  return `local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local interval = ${interval.toFixed(6)}
local next_at = nil
delay = function()
  local t = now_ms()
  if next_at == nil or next_at < t then next_at = t end
  local d = next_at - t
  next_at = next_at + interval
  return math.floor(d + 0.5)
end`
}

/** The JSON line of a wrk run; throws with wrk's output when it is missing (wrk failed). */
export function parseWrkOutput(stdout: string): WrkResult {
  const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER))
  if (line === undefined) throw new Error(`wrk printed no result line:\n${stdout.slice(-2000)}`)
  const j = JSON.parse(line.slice(RESULT_MARKER.length)) as {
    requests: number
    duration_us: number
    bytes: number
    errors: { connect: number; read: number; write: number; status: number; timeout: number }
    p50_us: number
    p90_us: number
    p99_us: number
    max_us: number
    mean_us: number
  }
  return {
    requests: j.requests,
    durationUs: j.duration_us,
    bytes: j.bytes,
    errors: j.errors,
    p50Us: j.p50_us,
    p90Us: j.p90_us,
    p99Us: j.p99_us,
    maxUs: j.max_us,
    meanUs: j.mean_us,
    rps: j.duration_us > 0 ? (j.requests * 1e6) / j.duration_us : 0,
  }
}

/** Total errors of a run (socket errors, timeouts and non-2xx/3xx answers). */
export function errorCount(r: WrkResult): number {
  const e = r.errors
  return e.connect + e.read + e.write + e.status + e.timeout
}
