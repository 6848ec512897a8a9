/**
 * `turnpike trace METHOD URL [-H 'Name: value']… [--body TEXT|@FILE] [--client-ip IP] [--send] [--json]`:
 * asks the running gateway (found from its prefix, as `turnpike health`) to explain a request
 * (`POST /trace`, docs/trace.md) and prints the answer: a readable report (coloured on a terminal,
 * plain when piped or with NO_COLOR), or the JSON as the Admin API gives it.
 *
 * Exit codes: 0 a route matched and nothing refused the request; 1 the gateway would answer it
 * itself (no route, a plugin's refusal, a redirect…); 2 no trace (bad arguments, gateway not reachable).
 */
import { readFileSync, statSync } from 'node:fs'
import type { GatewayConfig } from '../../config/index.js'
import type { TraceResult } from '../../doctor/trace.js'
import { TRACE_LIMITS } from '../../doctor/trace-input.js'
import { outbound } from '../../http/outbound.js'
import { UsageError, type ParsedArgs } from '../args.js'
import { runningAdminUrl } from './health.js'

export interface Paint {
  bold(s: string): string
  dim(s: string): string
  red(s: string): string
  green(s: string): string
  yellow(s: string): string
}

const esc =
  (code: string) =>
  (s: string): string =>
    `\x1b[${code}m${s}\x1b[0m`

export function paint(color: boolean): Paint {
  if (!color) {
    const id = (s: string): string => s
    return { bold: id, dim: id, red: id, green: id, yellow: id }
  }
  return { bold: esc('1'), dim: esc('2'), red: esc('31'), green: esc('32'), yellow: esc('33') }
}

function readBodyArg(body: string | undefined): string | undefined {
  if (body === undefined || !body.startsWith('@')) return body
  const file = body.slice(1)
  if (statSync(file).size > TRACE_LIMITS.body) throw new UsageError(`--body ${body}: larger than ${TRACE_LIMITS.body} bytes`)
  return readFileSync(file, 'utf8')
}

function ms(v: number | null): string {
  return v === null ? '-' : `${v.toFixed(1)} ms`
}

/** The human report of a trace. */
export function renderTrace(t: TraceResult, p: Paint): string {
  const out: string[] = []
  out.push(
    p.bold(`${t.request.method} ${t.request.url}`) +
      p.dim(`  (client ${t.request.client_ip}, configuration version ${t.configuration_version})`),
  )
  out.push('')
  if (t.route === null) out.push(`${p.bold('route')}        ${p.red('none matched')} → 404 no Route matched with those values`)
  else {
    const r = t.route
    const pr = r.priority
    out.push(
      `${p.bold('route')}        ${p.green(r.name ?? r.id)}${r.service === null ? ' (no service)' : ` → service ${r.service.name ?? r.service.id}`}` +
        p.dim(`  position ${r.position} in priority order`),
    )
    out.push(
      p.dim(
        `             priority: ${pr.fields} field${pr.fields === 1 ? '' : 's'}, ${pr.plain_hosts ? 'plain hosts' : 'no plain hosts'}, ` +
          `${pr.header_count} header${pr.header_count === 1 ? '' : 's'}, ${pr.regex ? `regex (regex_priority ${pr.regex_priority})` : `prefix length ${pr.prefix_length}`}`,
      ),
    )
    out.push(
      p.dim(
        `             matched path ${r.matched_path === null || r.matched_path === '' ? '(any)' : r.matched_path}, strip_path ${r.strip_path ? 'on' : 'off'}, preserve_host ${r.preserve_host ? 'on' : 'off'}`,
      ),
    )
    for (const n of r.notes) out.push(`             ${p.yellow(n)}`)
  }
  if (t.near_misses.length > 0) {
    out.push(p.bold('near misses'))
    for (const m of t.near_misses) out.push(`  ${p.dim(`#${m.position}`)} ${m.name ?? m.id}: ${m.reasons.join('; ')}`)
  }
  out.push('')
  if (t.plugins.length > 0) {
    out.push(p.bold('plugins') + p.dim('  (access order)'))
    for (const pl of t.plugins) {
      const mark =
        pl.outcome === 'refuses' ? p.red('✗') : pl.outcome === 'passes' || pl.outcome === 'authenticates' ? p.green('✓') : p.yellow('·')
      out.push(`  ${mark} ${pl.name} ${p.dim(`(${pl.scope}, priority ${pl.priority})`)}: ${pl.decision}`)
    }
    out.push('')
  }
  if (t.response !== null) {
    out.push(
      `${p.bold('answer')}       ${p.red(String(t.response.status))} ${t.response.message ?? ''}` +
        p.dim('  (from the gateway; nothing is sent upstream)'),
    )
  }
  const u = t.upstream_request
  if (u !== null) {
    out.push(p.bold('upstream request'))
    out.push(`  ${u.method} ${u.url}`)
    for (const [n, v] of u.headers) out.push(`  ${u.added_headers.includes(n.toLowerCase()) ? p.green('+') : ' '} ${n}: ${v}`)
    for (const n of u.removed_headers) out.push(`  ${p.red('-')} ${n}`)
    const tg = u.target
    out.push(
      p.dim(
        `  to ${tg.address}:${tg.port} (${tg.hostname}${tg.scheme === 'https' || tg.scheme === 'grpcs' ? `, TLS name ${tg.servername}, verify ${tg.tls_verify ? 'on' : 'off'}` : ''}), ` +
          `timeouts connect ${tg.connect_timeout} / read ${tg.read_timeout} / write ${tg.write_timeout} ms`,
      ),
    )
    const b = tg.balancer
    if (b !== null) {
      out.push(`  balancer ${b.upstream}: ${b.why}`)
      for (const a of b.addresses)
        out.push(
          `    ${a.picked ? p.green('→') : ' '} ${a.address} ${p.dim(`(target ${a.target}, weight ${a.weight})`)} ${a.healthy ? p.green('healthy') : p.red('unhealthy')}`,
        )
    }
  }
  const s = t.sent
  if (s !== null) {
    out.push('')
    out.push(p.bold('sent'))
    out.push(
      `  dns ${ms(s.dns_ms)} · connect ${ms(s.connect_ms)} · tls ${ms(s.tls_ms)} · first byte ${ms(s.first_byte_ms)} · total ${ms(s.total_ms)}`,
    )
    if (s.error !== null) out.push(`  ${p.red(s.error)}`)
    if (s.status !== null)
      out.push(`  ← ${s.status >= 400 ? p.red(String(s.status)) : p.green(String(s.status))} (${s.body_bytes} body bytes)`)
    for (const [n, v] of s.headers.slice(0, 20)) out.push(p.dim(`    ${n}: ${v}`))
    if (s.body_preview !== '') out.push(p.dim(`    ${s.body_preview.slice(0, 300).replace(/\s+/g, ' ')}`))
  }
  out.push('')
  out.push(
    t.ok
      ? p.green(t.upstream_request !== null ? 'ok: the request would reach the upstream' : 'ok: a plugin answers the request itself')
      : p.red('refused: the gateway answers this request itself'),
  )
  return out.join('\n') + '\n'
}

export async function traceCommand(args: ParsedArgs, config: () => GatewayConfig): Promise<number> {
  const [method, url, ...rest] = args.positional
  if (method === undefined || url === undefined || rest.length > 0) {
    process.stderr.write(
      "Error: usage: turnpike trace METHOD URL [-H 'Name: value']... [--body TEXT|@FILE] [--client-ip IP] [--send] [--json] [-p PREFIX]\n",
    )
    return 2
  }
  const body = readBodyArg(args.body)
  const base = args.adminUrl ?? runningAdminUrl(config())
  if (base === undefined) {
    process.stderr.write('Error: no Admin API address: is the gateway running (turnpike start), or pass --admin-url?\n')
    return 2
  }
  const res = await outbound.request({
    method: 'POST',
    origin: base,
    path: '/trace',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      method: method.toUpperCase(),
      url,
      headers: args.headers,
      ...(body !== undefined ? { body } : {}),
      ...(args.clientIp !== undefined ? { client_ip: args.clientIp } : {}),
      send: args.send,
    }),
    connectTimeoutMs: 5000,
    readTimeoutMs: 60_000,
    maxBodyBytes: 16 * 1024 * 1024,
    ...(base.startsWith('https:') ? { tls: { verify: false } } : {}),
  })
  if (!res.ok) {
    process.stderr.write(`Error: the Admin API at ${base} does not answer: ${res.failure.message}\n`)
    return 2
  }
  const text = res.body.toString('utf8')
  if (res.status !== 200) {
    let message = text
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text
    } catch {
      // not JSON
    }
    process.stderr.write(`Error: ${res.status} ${message}\n`)
    return 2
  }
  const result = JSON.parse(text) as TraceResult
  if (args.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n')
  else process.stdout.write(renderTrace(result, paint(process.stdout.isTTY === true && process.env['NO_COLOR'] === undefined)))
  return result.ok ? 0 : 1
}
