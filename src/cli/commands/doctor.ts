/**
 * `turnpike doctor [--service NAME|ID] [--route NAME|ID] [--json] [--keepalive-wait S]`: asks the
 * running gateway (found from its prefix, as `turnpike health`) to run the troubleshooting
 * checklist, and prints the verdict. Exit code: 0 ok, 1 warnings, 2 errors, 3 the gateway is not
 * running or does not answer, 4 the request was refused (unknown service or route, bad option).
 *
 * When stderr is a terminal and every service is asked for, the services are probed one request
 * each (`GET /services/{id}/doctor`) so progress can be shown.
 *
 * @module
 */
import type { GatewayConfig } from '../../config/index.js'
import { doctorReport, exitCode, type DoctorReport, type ServiceReport } from '../../doctor/report.js'
import { renderReport } from '../../doctor/render.js'
import { outbound } from '../../http/outbound.js'
import { runningPid } from '../../runtime/primary.js'
import type { ParsedArgs } from '../args.js'
import { runningAdminUrl } from './health.js'

/** Exit codes besides the report's 0/1/2. */
export const NOT_RUNNING = 3
export const REFUSED = 4

class CallError extends Error {
  readonly exit: number
  constructor(message: string, exit: number) {
    super(message)
    this.exit = exit
  }
}

/** Services listed at most (the Admin API's pages of 1000). */
const MAX_LISTED = 10_000

async function getJson(base: string, path: string, timeoutMs: number): Promise<unknown> {
  const res = await outbound.request({
    method: 'GET',
    origin: base,
    path,
    connectTimeoutMs: 5000,
    readTimeoutMs: timeoutMs,
    maxBodyBytes: 64 * 1024 * 1024,
    ...(base.startsWith('https:') ? { tls: { verify: false } } : {}),
  })
  if (!res.ok) throw new CallError(`the Admin API at ${base} does not answer: ${res.failure.message}`, NOT_RUNNING)
  let body: unknown
  try {
    body = JSON.parse(res.body.toString('utf8'))
  } catch {
    throw new CallError(`the Admin API at ${base} answered ${res.status} with a body that is not JSON`, NOT_RUNNING)
  }
  if (res.status === 200) return body
  const message =
    typeof body === 'object' && body !== null && 'message' in body ? String((body as { message: unknown }).message) : `HTTP ${res.status}`
  throw new CallError(`${path.split('?')[0] ?? path}: ${message}`, res.status === 404 || res.status === 400 ? REFUSED : NOT_RUNNING)
}

function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v)
  const s = q.toString()
  return s === '' ? '' : `?${s}`
}

/** Every service id, following the Admin API's pages. */
async function serviceIds(base: string): Promise<string[]> {
  const ids: string[] = []
  let path: string | null = '/services?size=1000'
  while (path !== null && ids.length < MAX_LISTED) {
    const page = (await getJson(base, path, 30_000)) as { data?: { id: string }[]; next?: string | null }
    for (const s of page.data ?? []) ids.push(s.id)
    path = typeof page.next === 'string' && page.next.startsWith('/') ? page.next : null
  }
  return ids
}

/** Probes service by service, printing progress on stderr. */
async function progressive(base: string, keepaliveWait: string | undefined, timeoutMs: number): Promise<DoctorReport> {
  const started = Date.now()
  const ids = await serviceIds(base)
  const reports: ServiceReport[] = new Array<ServiceReport>(ids.length)
  let done = 0
  let next = 0
  let nodeId = ''
  const show = (): void => {
    process.stderr.write(`\r\x1b[Kprobing ${done}/${ids.length} …`)
  }
  show()
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const i = next++
      const r = (await getJson(
        base,
        `/services/${encodeURIComponent(ids[i] as string)}/doctor${query({ checks: 'services', keepalive_wait: keepaliveWait })}`,
        timeoutMs,
      )) as DoctorReport
      nodeId = r.node_id
      const s = r.services[0]
      if (s !== undefined) reports[i] = s
      done++
      show()
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(4, ids.length) }, worker))
  } finally {
    process.stderr.write('\r\x1b[K')
  }
  const routes = (await getJson(base, `/doctor${query({ checks: 'routes' })}`, timeoutMs)) as DoctorReport
  return doctorReport(
    nodeId || routes.node_id,
    started,
    reports.filter((r) => r !== undefined),
    routes.routes,
    0,
  )
}

export async function doctorCommand(config: GatewayConfig, args: ParsedArgs): Promise<number> {
  const pid = runningPid(config.prefix)
  if (pid === null) {
    process.stderr.write(`Error: turnpike is not running in ${config.prefix} (start it, or name its prefix with -p)\n`)
    return NOT_RUNNING
  }
  const base = runningAdminUrl(config)
  if (base === undefined) {
    process.stderr.write(`Error: turnpike (pid ${pid}) has no Admin API listener to ask (admin_listen is off)\n`)
    return NOT_RUNNING
  }
  const wait = args.keepaliveWait
  // Generous: many services are probed 8 at a time, each bounded by the gateway.
  const timeoutMs = 600_000
  let report: DoctorReport
  try {
    const q = query({ route: args.route, keepalive_wait: wait })
    if (args.service !== undefined)
      report = (await getJson(base, `/services/${encodeURIComponent(args.service)}/doctor${q}`, timeoutMs)) as DoctorReport
    else if (args.route === undefined && process.stderr.isTTY === true) report = await progressive(base, wait, timeoutMs)
    else report = (await getJson(base, `/doctor${q}`, timeoutMs)) as DoctorReport
  } catch (err) {
    if (err instanceof CallError) {
      process.stderr.write(`Error: ${err.message}\n`)
      return err.exit
    }
    throw err
  }
  if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
  else {
    const color = process.stdout.isTTY === true && (process.env['NO_COLOR'] ?? '') === ''
    process.stdout.write(renderReport(report, { color }))
  }
  return exitCode(report.status)
}
