/**
 * Summaries of repeated runs, the ratios and targets, and the text table. Pure: everything
 * here works on plain data so it is unit-tested (test/unit/bench/).
 */
import { ratio, summarize, type Summary } from './stats.js'

/** One measured wrk run of one variant. */
export interface RunSample {
  readonly repeat: number
  readonly rps: number
  readonly p50Us: number
  readonly p99Us: number
  readonly requests: number
  readonly errors: number
  /** CPU time of the proxy's processes per request, µs (NaN when unknown) */
  readonly cpuUsPerReq: number
  /** Largest RSS sum of the proxy's processes seen during the run, kB */
  readonly rssLoadKb: number
  /** Largest RSS of one process of the proxy seen during the run, kB */
  readonly rssLoadMaxProcKb: number
}

export interface VariantResult {
  readonly scenario: string
  readonly id: string
  readonly label: string
  /** Why the variant could not be measured (e.g. a plugin this build does not have); then no samples. */
  readonly unavailable?: string
  readonly rssIdleKb: number
  readonly processes: number
  readonly samples: readonly RunSample[]
}

export interface VariantSummary {
  readonly scenario: string
  readonly id: string
  readonly label: string
  readonly unavailable?: string
  readonly rps: Summary
  readonly p50Ms: Summary
  readonly p99Ms: Summary
  readonly cpuUsPerReq: Summary
  readonly rssIdleMb: number
  readonly rssLoadMb: number
  readonly rssLoadMaxProcMb: number
  readonly errors: number
  readonly requests: number
  readonly processes: number
  /** Each measured run's values, by repeat: runs with the same repeat number ran side by side in time. */
  readonly repeats: readonly RepeatValues[]
}

export interface RepeatValues {
  readonly repeat: number
  readonly rps: number
  readonly p50Ms: number
  readonly p99Ms: number
}

const mb = (kb: number): number => kb / 1024

export function summarizeVariant(v: VariantResult): VariantSummary {
  const s = v.samples
  return {
    scenario: v.scenario,
    id: v.id,
    label: v.label,
    ...(v.unavailable !== undefined ? { unavailable: v.unavailable } : {}),
    rps: summarize(s.map((x) => x.rps)),
    p50Ms: summarize(s.map((x) => x.p50Us / 1000)),
    p99Ms: summarize(s.map((x) => x.p99Us / 1000)),
    cpuUsPerReq: summarize(s.map((x) => x.cpuUsPerReq)),
    rssIdleMb: mb(v.rssIdleKb),
    rssLoadMb: s.length === 0 ? Number.NaN : mb(Math.max(...s.map((x) => x.rssLoadKb))),
    rssLoadMaxProcMb: s.length === 0 ? Number.NaN : mb(Math.max(...s.map((x) => x.rssLoadMaxProcKb))),
    errors: s.reduce((a, x) => a + x.errors, 0),
    requests: s.reduce((a, x) => a + x.requests, 0),
    processes: v.processes,
    repeats: s.map((x) => ({ repeat: x.repeat, rps: x.rps, p50Ms: x.p50Us / 1000, p99Ms: x.p99Us / 1000 })),
  }
}

type Metric = 'rps' | 'p50' | 'p99' | 'rssLoadMaxProc'
interface Ref {
  readonly scenario: string
  readonly id: string
  readonly metric: Metric
}

/** A ratio (or a plain value when `den` is absent) with the target, if it sets one. */
export interface CheckDef {
  readonly name: string
  readonly num: Ref
  readonly den?: Ref
  /** 'ratio' prints ×, 'ms' and 'MB' print the value; 'diff' is num − den in ms */
  readonly kind: 'ratio' | 'ms' | 'MB' | 'diff'
  readonly target?: { readonly op: '>=' | '<='; readonly value: number }
}

export interface CheckResult {
  readonly name: string
  readonly value: number | null
  readonly kind: CheckDef['kind']
  readonly target: string | null
  /** null when there is no target or no value */
  readonly pass: boolean | null
  /**
   * For a ratio of two variants of one scenario: the smallest and largest of the ratios taken
   * repeat by repeat (runs with the same repeat number ran one after the other, close in time).
   */
  readonly spread?: { readonly min: number; readonly max: number; readonly n: number }
  /** With a target and a spread: false when some repeats meet the target and others do not. */
  readonly settled?: boolean
  readonly note?: string
}

/** The ratios of issue 7 ("Targets"), plus the informative ones next to them. */
export function checkDefs(workers: number): CheckDef[] {
  const r = (scenario: string, id: string, metric: Metric = 'rps'): Ref => ({ scenario, id, metric })
  return [
    {
      name: 'bare, 1 worker: turnpike / reference proxy (req/s)',
      num: r('bare', 'turnpike'),
      den: r('bare', 'reference'),
      kind: 'ratio',
      target: { op: '>=', value: 0.9 },
    },
    {
      name: 'bare, 1 worker: turnpike / fast-gateway (req/s)',
      num: r('bare', 'turnpike'),
      den: r('bare', 'fast-gateway'),
      kind: 'ratio',
      target: { op: '>=', value: 2 },
    },
    {
      name: 'shared core, 1 worker each, loaded together: turnpike / reference proxy (req/s)',
      num: r('shared-core', 'turnpike'),
      den: r('shared-core', 'reference'),
      kind: 'ratio',
      target: { op: '>=', value: 0.9 },
    },
    {
      name: 'shared core, 1 worker each, loaded together: turnpike / fast-gateway (req/s)',
      num: r('shared-core', 'turnpike'),
      den: r('shared-core', 'fast-gateway'),
      kind: 'ratio',
      target: { op: '>=', value: 2 },
    },
    { name: 'bare, 1 worker: turnpike / nginx (req/s)', num: r('bare', 'turnpike'), den: r('bare', 'nginx'), kind: 'ratio' },
    { name: 'bare, 1 worker: turnpike / bun (req/s)', num: r('bare', 'turnpike'), den: r('bare', 'bun'), kind: 'ratio' },
    { name: 'bare, 1 worker: reference / nginx (req/s)', num: r('bare', 'reference'), den: r('bare', 'nginx'), kind: 'ratio' },
    {
      name: '10,000 routes / 1 route, turnpike (req/s)',
      num: r('routes-10k', 'turnpike-10k'),
      den: r('routes-10k', 'turnpike'),
      kind: 'ratio',
      target: { op: '>=', value: 0.95 },
    },
    { name: 'key-auth / bare, turnpike (req/s)', num: r('plugins', 'turnpike-key-auth'), den: r('plugins', 'turnpike'), kind: 'ratio' },
    {
      name: 'key-auth + rate-limiting / bare, turnpike (req/s)',
      num: r('plugins', 'turnpike-key-auth-rl'),
      den: r('plugins', 'turnpike'),
      kind: 'ratio',
      target: { op: '>=', value: 0.85 },
    },
    {
      name: `${workers} workers: turnpike / reference ×${workers} (req/s)`,
      num: r('workers', 'turnpike'),
      den: r('workers', 'reference'),
      kind: 'ratio',
      target: { op: '>=', value: 0.9 },
    },
    {
      name: `${workers} workers: reference ×${workers} / reference ×1 (req/s)`,
      num: r('workers', 'reference'),
      den: r('bare', 'reference'),
      kind: 'ratio',
    },
    {
      name: `${workers} workers: turnpike ×${workers} / turnpike ×1 (req/s)`,
      num: r('workers', 'turnpike'),
      den: r('bare', 'turnpike'),
      kind: 'ratio',
    },
    {
      // The request path never touches the database: the store behind the Admin API must not matter.
      name: 'postgres store / sqlite store, turnpike 1 worker (req/s)',
      num: r('postgres', 'turnpike-pg'),
      den: r('postgres', 'turnpike'),
      kind: 'ratio',
      target: { op: '>=', value: 0.95 },
    },
    { name: 'https, 1 worker: turnpike / nginx (req/s)', num: r('https', 'turnpike-tls'), den: r('https', 'nginx-tls'), kind: 'ratio' },
    { name: '1 MB bodies: turnpike / reference (req/s)', num: r('body-1m', 'turnpike'), den: r('body-1m', 'reference'), kind: 'ratio' },
    {
      name: 'paced: turnpike p50 / reference p50',
      num: r('paced', 'turnpike', 'p50'),
      den: r('paced', 'reference', 'p50'),
      kind: 'ratio',
      target: { op: '<=', value: 1 },
    },
    {
      name: 'paced: turnpike p99 / reference p99',
      num: r('paced', 'turnpike', 'p99'),
      den: r('paced', 'reference', 'p99'),
      kind: 'ratio',
      target: { op: '<=', value: 1 },
    },
    {
      name: 'paced: p50 added over direct, turnpike (ms)',
      num: r('paced', 'turnpike', 'p50'),
      den: r('paced', 'direct', 'p50'),
      kind: 'diff',
    },
    {
      name: 'paced: p99 added over direct, turnpike (ms)',
      num: r('paced', 'turnpike', 'p99'),
      den: r('paced', 'direct', 'p99'),
      kind: 'diff',
    },
    {
      name: 'paced: p50 added over direct, reference (ms)',
      num: r('paced', 'reference', 'p50'),
      den: r('paced', 'direct', 'p50'),
      kind: 'diff',
    },
    {
      name: 'paced: p99 added over direct, reference (ms)',
      num: r('paced', 'reference', 'p99'),
      den: r('paced', 'direct', 'p99'),
      kind: 'diff',
    },
    { name: 'paced: p50 added over direct, nginx (ms)', num: r('paced', 'nginx', 'p50'), den: r('paced', 'direct', 'p50'), kind: 'diff' },
    { name: 'paced: p99 added over direct, nginx (ms)', num: r('paced', 'nginx', 'p99'), den: r('paced', 'direct', 'p99'), kind: 'diff' },
    {
      name: 'memory: largest turnpike process with 10,000 routes, under load (MB)',
      num: r('routes-10k', 'turnpike-10k', 'rssLoadMaxProc'),
      kind: 'MB',
      target: { op: '<=', value: 150 },
    },
  ]
}

function repeatMetric(r: RepeatValues, m: Exclude<Metric, 'rssLoadMaxProc'>): number {
  return m === 'rps' ? r.rps : m === 'p50' ? r.p50Ms : r.p99Ms
}

/** The ratio num/den repeat by repeat, for two variants of the same scenario. */
export function pairedRatios(num: VariantSummary, den: VariantSummary, m: Metric): number[] {
  if (m === 'rssLoadMaxProc' || num.scenario !== den.scenario) return []
  const out: number[] = []
  for (const a of num.repeats) {
    const b = den.repeats.find((x) => x.repeat === a.repeat)
    const r = b === undefined ? Number.NaN : ratio(repeatMetric(a, m), repeatMetric(b, m))
    if (Number.isFinite(r)) out.push(r)
  }
  return out
}

function metricOf(s: VariantSummary, m: Metric): number {
  switch (m) {
    case 'rps':
      return s.rps.median
    case 'p50':
      return s.p50Ms.median
    case 'p99':
      return s.p99Ms.median
    case 'rssLoadMaxProc':
      return s.rssLoadMaxProcMb
  }
}

export function evaluateChecks(defs: readonly CheckDef[], summaries: readonly VariantSummary[]): CheckResult[] {
  const find = (ref: Ref): VariantSummary | undefined => summaries.find((s) => s.scenario === ref.scenario && s.id === ref.id)
  const out: CheckResult[] = []
  for (const d of defs) {
    const num = find(d.num)
    const den = d.den === undefined ? undefined : find(d.den)
    if (num === undefined || (d.den !== undefined && den === undefined)) continue // not run this time
    const target = d.target === undefined ? null : `${d.target.op} ${d.target.value}`
    const missing = [num, den].find((s) => s?.unavailable !== undefined)
    if (missing !== undefined) {
      out.push({ name: d.name, value: null, kind: d.kind, target, pass: null, note: `n/a: ${missing.label}: ${missing.unavailable ?? ''}` })
      continue
    }
    const a = metricOf(num, d.num.metric)
    const b = den === undefined || d.den === undefined ? undefined : metricOf(den, d.den.metric)
    const value = d.kind === 'ratio' ? ratio(a, b) : d.kind === 'diff' ? (b === undefined ? Number.NaN : a - b) : a
    if (!Number.isFinite(value)) {
      out.push({ name: d.name, value: null, kind: d.kind, target, pass: null, note: 'no value' })
      continue
    }
    const meets = (x: number): boolean | null =>
      d.target === undefined ? null : d.target.op === '>=' ? x >= d.target.value : x <= d.target.value
    const pass = meets(value)
    const paired =
      d.kind === 'ratio' && den !== undefined && d.den !== undefined && d.den.metric === d.num.metric
        ? pairedRatios(num, den, d.num.metric)
        : []
    if (paired.length < 2) {
      out.push({ name: d.name, value, kind: d.kind, target, pass })
      continue
    }
    const spread = { min: Math.min(...paired), max: Math.max(...paired), n: paired.length }
    const settled = pass === null ? undefined : meets(spread.min) === meets(spread.max)
    out.push({ name: d.name, value, kind: d.kind, target, pass, spread, ...(settled === undefined ? {} : { settled }) })
  }
  return out
}

const fmtInt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-')
const fmt = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : '-')

/** "12,345 (12,001–12,700)": median with min–max. */
export function fmtSummary(s: Summary, digits: number | 'int'): string {
  if (s.n === 0) return '-'
  const f = (x: number): string => (digits === 'int' ? fmtInt(x) : fmt(x, digits))
  return s.n === 1 ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`
}

/** A Markdown table: one row per variant. */
export function variantTable(rows: readonly VariantSummary[]): string {
  const head = ['scenario', 'proxy', 'req/s median (min–max)', 'p50 ms', 'p99 ms', 'CPU µs/req', 'RSS idle MB', 'RSS load MB', 'errors']
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i < 2 ? '---' : '---:')).join('|')}|`]
  for (const r of rows) {
    if (r.unavailable !== undefined) {
      lines.push(`| ${r.scenario} | ${r.label} | n/a: ${r.unavailable} | | | | | | |`)
      continue
    }
    lines.push(
      `| ${[r.scenario, r.label, fmtSummary(r.rps, 'int'), fmtSummary(r.p50Ms, 2), fmtSummary(r.p99Ms, 2), fmt(r.cpuUsPerReq.median, 0), fmt(r.rssIdleMb, 0), fmt(r.rssLoadMb, 0), String(r.errors)].join(' | ')} |`,
    )
  }
  return lines.join('\n')
}

/**
 * A Markdown table of the ratios and their targets. A ratio of two variants of one scenario shows
 * the ratio of medians, then the range of the repeat-by-repeat ratios; a verdict whose range lies
 * on both sides of the target says "unsettled": this run cannot tell.
 */
export function checkTable(checks: readonly CheckResult[]): string {
  const lines = ['| measure | value (range by repeat) | target | |', '|---|---:|---|---|']
  for (const c of checks) {
    let v =
      c.value === null
        ? (c.note ?? 'n/a')
        : c.kind === 'ratio'
          ? `${c.value.toFixed(2)}×`
          : c.kind === 'diff'
            ? `${c.value >= 0 ? '+' : ''}${c.value.toFixed(2)} ms`
            : c.kind === 'ms'
              ? `${c.value.toFixed(2)} ms`
              : `${c.value.toFixed(0)} MB`
    if (c.spread !== undefined) v += ` (${c.spread.min.toFixed(2)}–${c.spread.max.toFixed(2)})`
    const verdict = c.pass === null ? '' : `${c.pass ? 'met' : 'NOT met'}${c.settled === false ? ', unsettled' : ''}`
    lines.push(`| ${c.name} | ${v} | ${c.target ?? ''} | ${verdict} |`)
  }
  return lines.join('\n')
}
