/** The pure parts of `npm run bench`: options, wrk scripts and output, /proc parsing, statistics, ratios, tables. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { parseArgs, SCENARIOS, TARGETS } from '../../../bench/lib/args.js'
import { BODY_1M_PATH, proxyConf, UPSTREAM_BODY, upstreamConf } from '../../../bench/lib/nginx.js'
import { parseRssKb, parseStat } from '../../../bench/lib/procfs.js'
import {
  checkDefs,
  checkTable,
  evaluateChecks,
  fmtSummary,
  type RunSample,
  summarizeVariant,
  type VariantResult,
  variantTable,
} from '../../../bench/lib/report.js'
import { benchPaths, benchRoutes } from '../../../bench/lib/routes.js'
import { median, ratio, summarize } from '../../../bench/lib/stats.js'
import { errorCount, parseWrkOutput, RESULT_MARKER, wrkScript } from '../../../bench/lib/wrk.js'

describe('statistics', () => {
  test('median of odd and even counts, ignoring non-finite values', () => {
    assert.equal(median([3, 1, 2]), 2)
    assert.equal(median([4, 1, 3, 2]), 2.5)
    assert.equal(median([5, Number.NaN, 1, 3]), 3)
    assert.ok(Number.isNaN(median([])))
  })
  test('summary has median, min, max and count', () => {
    assert.deepEqual(summarize([7000, 7400, 7100]), { median: 7100, min: 7000, max: 7400, n: 3 })
    assert.equal(summarize([]).n, 0)
  })
  test('ratio is NaN when a side is missing or zero', () => {
    assert.equal(ratio(9, 10), 0.9)
    assert.ok(Number.isNaN(ratio(1, 0)))
    assert.ok(Number.isNaN(ratio(undefined, 2)))
    assert.ok(Number.isNaN(ratio(1, Number.NaN)))
  })
})

describe('options', () => {
  test('defaults: short runs, every proxy and scenario, pinned', () => {
    const o = parseArgs([], 2)
    assert.equal(o.duration, 5)
    assert.equal(o.repeats, 3)
    assert.equal(o.workers, 2)
    assert.deepEqual(o.only, [...TARGETS])
    assert.deepEqual(o.scenarios, [...SCENARIOS])
    assert.equal(o.pin, true)
    assert.equal(o.micro, false)
  })
  test('--only and --scenario select; --flag=value works too', () => {
    const o = parseArgs(['--only', 'turnpike,reference', '--scenario=bare', '--duration', '2.5', '--repeats=5'], 2)
    assert.deepEqual(o.only, ['turnpike', 'reference'])
    assert.deepEqual(o.scenarios, ['bare'])
    assert.equal(o.duration, 2.5)
    assert.equal(o.repeats, 5)
  })
  test('--set collects Turnpike settings; --long lengthens runs; --micro', () => {
    const o = parseArgs(['--set', 'proxy_access_log=off', '--set', 'LOG_LEVEL=warn', '--long', '--micro'], 4)
    assert.deepEqual(o.turnpikeSettings, { proxy_access_log: 'off', log_level: 'warn' })
    assert.equal(o.duration, 30)
    assert.equal(o.repeats, 5)
    assert.equal(o.workers, 4)
    assert.equal(o.micro, true)
    assert.equal(o.profileDir, null)
    assert.equal(parseArgs(['--profile', '/tmp/p'], 2).profileDir, '/tmp/p')
  })
  test('unknown names and bad numbers are refused with the allowed values', () => {
    assert.throws(() => parseArgs(['--only', 'kong'], 2), /unknown "kong"; one of: direct, nginx/)
    assert.throws(() => parseArgs(['--scenario', 'bare,fast'], 2), /unknown "fast"/)
    assert.throws(() => parseArgs(['--repeats', '2.5'], 2), /positive integer/)
    assert.throws(() => parseArgs(['--duration', '-1'], 2), /positive number/)
    assert.throws(() => parseArgs(['--set', 'novalue'], 2), /name=value/)
    assert.throws(() => parseArgs(['--frobnicate'], 2), /unknown option --frobnicate/)
  })
})

describe('wrk', () => {
  const line = `${RESULT_MARKER}{"requests":36000,"duration_us":5000000,"bytes":9000000,"errors":{"connect":0,"read":1,"write":0,"status":2,"timeout":0},"p50_us":1200,"p90_us":2000,"p99_us":4100,"max_us":9000,"mean_us":1300.50}`
  test("parses the result line among wrk's own output", () => {
    const out = `Running 5s test @ http://127.0.0.1:1/\n  1 threads and 50 connections\n  36000 requests in 5.00s\n\n${line}\n`
    const r = parseWrkOutput(out)
    assert.equal(r.requests, 36000)
    assert.equal(r.rps, 7200)
    assert.equal(r.p50Us, 1200)
    assert.equal(r.p99Us, 4100)
    assert.equal(r.meanUs, 1300.5)
    assert.equal(errorCount(r), 3)
  })
  test("a run without the result line fails with wrk's output", () => {
    assert.throws(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n'), /no result line:\nunable to connect/)
  })
  test('scripts: plain, with headers, cycling paths, paced', () => {
    const plain = wrkScript({})
    assert.match(plain, /^\s*done = function\(summary, latency, requests\)/m)
    assert.doesNotMatch(plain, /request = function|delay = function/)
    const withHeaders = wrkScript({ headers: { apikey: 'k' } })
    assert.match(withHeaders, /wrk\.headers\[k\] = v/)
    assert.match(withHeaders, /\["apikey"\]="k"/)
    const paths = wrkScript({ paths: ['/a', '/b"c'], headers: { apikey: 'k' } })
    assert.match(paths, /local paths = \{"\/a","\/b\\"c"\}/)
    assert.match(paths, /wrk\.format\("GET", paths\[i\], hdrs\)/)
    const paced = wrkScript({ ratePerThread: 1000 })
    assert.match(paced, /local interval = 1\.000000/)
    assert.match(paced, /delay = function\(\)/)
    assert.match(paced, /clock_gettime\(1, ts\)/)
  })
})

describe('/proc parsing', () => {
  test('stat: a command name with spaces and parentheses, utime+stime', () => {
    const text = '4242 (node (worker) x) S 4200 4242 4242 0 -1 4194560 1234 0 0 0 150 37 0 0 20 0 11 0 99 0 0'
    assert.deepEqual(parseStat(text), { pid: 4242, ppid: 4200, ticks: 187 })
  })
  test('stat: garbage is refused', () => {
    assert.throws(() => parseStat('nonsense'), /not a \/proc/)
  })
  test('status: VmRSS in kB, 0 for a zombie without it', () => {
    assert.equal(parseRssKb('Name:\tnode\nVmPeak:\t 900 kB\nVmRSS:\t   73456 kB\nRssAnon:\t 1 kB\n'), 73456)
    assert.equal(parseRssKb('Name:\tnode\nState:\tZ (zombie)\n'), 0)
  })
})

describe('scenario inputs', () => {
  test('routes: half prefix, half regex, unique names', () => {
    const r = benchRoutes(10)
    assert.equal(r.length, 10)
    assert.deepEqual(r[0], { name: 'r0', paths: ['/p0/'] })
    assert.deepEqual(r[1], { name: 'r1', paths: ['~/r1/\\d+$'] })
    assert.equal(new Set(r.map((x) => x.name)).size, 10)
  })
  test('paths hit existing routes, spread over the set, alternating kinds', () => {
    const n = 10_000
    const p = benchPaths(n)
    assert.equal(p.length, 200)
    const routes = benchRoutes(n)
    for (const path of p) {
      const m = /^\/(p|r)(\d+)\//.exec(path)
      assert.ok(m, path)
      const i = Number(m[2])
      assert.ok(i >= 0 && i < n)
      const route = (routes[i] as { paths: string[] }).paths[0] as string
      if (m[1] === 'p') assert.ok(path.startsWith(route), `${path} under ${route}`)
      else assert.ok(new RegExp(route.slice(1)).test(path), `${path} matches ${route}`)
    }
    assert.equal(p.filter((x) => x.startsWith('/p')).length, 100)
    assert.ok(
      p.some((x) => /^\/[pr]\d{4}\//.test(x)),
      'reaches the far end of the set',
    )
    assert.deepEqual(benchPaths(1), ['/p0/items'])
  })
  test('nginx: a 100-byte upstream answer, the 1 MB file, keep-alive to the upstream', () => {
    assert.equal(Buffer.byteLength(UPSTREAM_BODY), 100)
    const up = upstreamConf({ dir: '/tmp/x', port: 8081, runAsRoot: false })
    assert.match(up, /listen 127\.0\.0\.1:8081/)
    assert.match(up, new RegExp(`location = ${BODY_1M_PATH} \\{ default_type application/octet-stream; alias /tmp/x/1m\\.bin; \\}`))
    assert.match(up, /daemon off;/)
    assert.doesNotMatch(up, /^user /m)
    const px = proxyConf({ dir: '/tmp/y', port: 8082, upstreamPort: 8081, workers: 2, runAsRoot: true })
    assert.match(px, /^user root;/)
    assert.match(px, /worker_processes 2;/)
    assert.match(px, /server 127\.0\.0\.1:8081;\s+keepalive 128;/)
    assert.match(px, /proxy_http_version 1\.1;\s+proxy_set_header Connection "";/)
    assert.match(px, /listen 127\.0\.0\.1:8082 backlog=4096;/)
    assert.doesNotMatch(px, /ssl_/)
    const tls = proxyConf({
      dir: '/tmp/y',
      port: 8083,
      upstreamPort: 8081,
      workers: 1,
      runAsRoot: false,
      tls: { cert: '/c.pem', key: '/k.pem' },
    })
    assert.match(tls, /listen 127\.0\.0\.1:8083 ssl backlog=4096;\s+ssl_certificate \/c\.pem;\s+ssl_certificate_key \/k\.pem;/)
    assert.match(tls, /ssl_protocols TLSv1\.2 TLSv1\.3;/)
    assert.match(tls, /ssl_session_cache shared:SSL:10m;/)
  })
})

function sample(rps: number, p50Us: number, p99Us: number, rep = 0): RunSample {
  return {
    repeat: rep,
    rps,
    p50Us,
    p99Us,
    requests: rps * 5,
    errors: 0,
    cpuUsPerReq: 1e6 / rps,
    rssLoadKb: 80 * 1024,
    rssLoadMaxProcKb: 70 * 1024,
  }
}
function variant(scenario: string, id: string, rps: number[], p50 = 1000, p99 = 2000, extra: Partial<VariantResult> = {}): VariantResult {
  return { scenario, id, label: id, rssIdleKb: 60 * 1024, processes: 2, samples: rps.map((r, i) => sample(r, p50, p99, i)), ...extra }
}

describe('report', () => {
  const results: VariantResult[] = [
    variant('bare', 'reference', [7000, 7400, 7200]),
    variant('bare', 'turnpike', [6500, 6600, 6700]),
    variant('bare', 'fast-gateway', [3800, 3700, 3900]),
    variant('plugins', 'turnpike', [6000, 6000, 6000]),
    variant('plugins', 'turnpike-key-auth', [], 0, 0, { unavailable: "plugin 'key-auth' not enabled" }),
    variant('paced', 'direct', [1000, 1000, 1000], 200, 500),
    variant('paced', 'turnpike', [1000, 1000, 1000], 1100, 2600),
    variant('paced', 'reference', [1000, 1000, 1000], 950, 2400),
  ]
  const summaries = results.map(summarizeVariant)
  test('summaries: median with min/max, ms latencies, CPU per request, memory in MB', () => {
    const t = summaries[1]
    assert.ok(t)
    assert.deepEqual(t.rps, { median: 6600, min: 6500, max: 6700, n: 3 })
    assert.equal(t.p50Ms.median, 1)
    assert.equal(t.p99Ms.median, 2)
    assert.equal(Math.round(t.cpuUsPerReq.median), 152)
    assert.equal(t.rssIdleMb, 60)
    assert.equal(t.rssLoadMb, 80)
    assert.equal(t.requests, (6500 + 6600 + 6700) * 5)
  })
  test("ratios against the issue's targets, n/a for an unavailable plugin, skipped when not run", () => {
    const checks = evaluateChecks(checkDefs(2), summaries)
    const by = (prefix: string) => checks.find((c) => c.name.startsWith(prefix))
    const ref = by('bare, 1 worker: turnpike / reference')
    assert.ok(ref)
    assert.equal(ref.value, 6600 / 7200)
    assert.equal(ref.pass, true)
    assert.deepEqual(ref.spread, { min: 6600 / 7400, max: 6700 / 7200, n: 3 })
    assert.equal(ref.settled, false, 'one repeat below 0.9, two above')
    const fg = by('bare, 1 worker: turnpike / fast-gateway')
    assert.equal(fg?.pass, false) // 6600 / 3800 < 2
    assert.equal(fg?.settled, true, 'every repeat below 2')
    assert.equal(by('paced: p50 added over direct, turnpike')?.spread, undefined, 'a difference has no ratio range')
    const ka = by('key-auth / bare')
    assert.equal(ka?.value, null)
    assert.match(ka?.note ?? '', /^n\/a: turnpike-key-auth: plugin 'key-auth' not enabled/)
    assert.equal(by('paced: turnpike p50 / reference p50')?.pass, false)
    const added = by('paced: p50 added over direct, turnpike')
    assert.ok(added?.value !== null && added?.value !== undefined && Math.abs(added.value - 0.9) < 1e-9)
    assert.equal(by('10,000 routes'), undefined, 'routes-10k was not run')
    assert.equal(by('2 workers: turnpike'), undefined)
  })
  test('tables', () => {
    assert.equal(fmtSummary({ median: 7200, min: 7000, max: 7400, n: 3 }, 'int'), '7,200 (7,000–7,400)')
    assert.equal(fmtSummary({ median: 1.234, min: 1.234, max: 1.234, n: 1 }, 2), '1.23')
    const t = variantTable(summaries)
    assert.match(t, /^\| scenario \| proxy \| req\/s median/)
    assert.match(
      t,
      /\| bare \| turnpike \| 6,600 \(6,500–6,700\) \| 1\.00 \(1\.00–1\.00\) \| 2\.00 \(2\.00–2\.00\) \| 152 \| 60 \| 80 \| 0 \|/,
    )
    assert.match(t, /\| plugins \| turnpike-key-auth \| n\/a: plugin 'key-auth' not enabled \|/)
    const c = checkTable(evaluateChecks(checkDefs(2), summaries))
    // Repeat by repeat: 6500/7000, 6600/7400, 6700/7200 = 0.93, 0.89, 0.93: on both sides of 0.9.
    assert.match(c, /\| bare, 1 worker: turnpike \/ reference proxy \(req\/s\) \| 0\.92× \(0\.89–0\.93\) \| >= 0\.9 \| met, unsettled \|/)
    assert.match(c, /\| bare, 1 worker: turnpike \/ fast-gateway \(req\/s\) \| 1\.74× \(1\.71–1\.78\) \| >= 2 \| NOT met \|/)
    assert.match(c, /\| paced: p50 added over direct, turnpike \(ms\) \| \+0\.90 ms \| {2}\| {2}\|/)
  })
})
