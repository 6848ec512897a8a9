/**
 * `turnpike doctor`'s text output: a coloured table on a terminal, one plain line per finding when
 * piped (or with NO_COLOR), the fix of each finding next to it, and a last line counting them.
 *
 * @module
 */
import type { DoctorReport } from './report.js'
import type { Finding, FindingSubject, Severity } from './types.js'

export interface RenderOptions {
  /** ANSI colours and the table layout (a terminal without NO_COLOR). */
  readonly color: boolean
}

const COLOR: Readonly<Record<Severity, string>> = { ok: '\x1b[32m', warn: '\x1b[33m', error: '\x1b[31m' }
const RESET = '\x1b[0m'
const DIM = '\x1b[2m'
const BOLD = '\x1b[1m'

/** Control characters of names and upstream answers never reach the terminal. */
function clean(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, '?')
}

function subjectText(s: FindingSubject): string {
  const who = s.name ?? s.id
  return clean(who === null ? s.kind : `${s.kind} ${who}`)
}

/** The width of the check column: the longest check id (route checks' are long), at least 13. */
function checkWidth(findings: readonly Finding[]): number {
  return Math.min(24, Math.max(13, ...findings.map((f) => f.check.length)))
}

function counts(findings: readonly Finding[]): Record<Severity, number> {
  const c: Record<Severity, number> = { ok: 0, warn: 0, error: 0 }
  for (const f of findings) c[f.severity]++
  return c
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

function plainLine(f: Finding, cw: number): string {
  return `${f.severity.padEnd(5)}  ${f.check.padEnd(cw)}  ${subjectText(f.subject)}: ${clean(f.summary)}${f.fix !== undefined ? `; fix: ${clean(f.fix)}` : ''}`
}

function tableRows(findings: readonly Finding[], width: number, cw: number): string[] {
  const out: string[] = []
  for (const f of findings) {
    const sev = `${COLOR[f.severity]}${f.severity.padEnd(5)}${RESET}`
    out.push(`  ${sev}  ${f.check.padEnd(cw)}  ${subjectText(f.subject).padEnd(width)}  ${clean(f.summary)}`)
    if (f.fix !== undefined) out.push(`  ${' '.repeat(5 + 2 + cw + 2 + width + 2)}${DIM}fix: ${clean(f.fix)}${RESET}`)
  }
  return out
}

/** Ok route findings shown per check in text; the rest are counted in one line (`--json` has all). */
const OK_SHOWN_PER_CHECK = 3

/**
 * The route findings to print: every warning and error, and at most {@link OK_SHOWN_PER_CHECK} ok
 * findings per check followed by one that counts the others (a config of thousands of routes
 * would print a line per route).
 */
function foldedRouteFindings(findings: readonly Finding[]): Finding[] {
  const okByCheck = new Map<string, number>()
  const out: Finding[] = []
  for (const f of findings) {
    if (f.severity !== 'ok') {
      out.push(f)
      continue
    }
    const n = (okByCheck.get(f.check) ?? 0) + 1
    okByCheck.set(f.check, n)
    if (n <= OK_SHOWN_PER_CHECK) out.push(f)
  }
  for (const [check, n] of okByCheck)
    if (n > OK_SHOWN_PER_CHECK)
      out.push({
        check,
        severity: 'ok',
        subject: { kind: 'node', id: null, name: null },
        summary: `… and ${n - OK_SHOWN_PER_CHECK} more ok findings of this check (--json lists them all)`,
      })
  return out
}

/** The report as text (ends with a newline); the counts cover every finding, shown or folded. */
export function renderReport(full: DoctorReport, opts: RenderOptions): string {
  const report = { ...full, routes: foldedRouteFindings(full.routes) }
  const all = [...report.services.flatMap((s) => s.findings), ...report.routes]
  const lines: string[] = []
  const cw = checkWidth(all)
  if (!opts.color) {
    for (const f of all) lines.push(plainLine(f, cw))
  } else {
    const width = Math.min(28, Math.max(8, ...all.map((f) => subjectText(f.subject).length)))
    for (const s of report.services) {
      lines.push(
        `${COLOR[s.status]}${BOLD}${s.status.toUpperCase().padEnd(5)}${RESET}  ${BOLD}service ${clean(s.name ?? s.id)}${RESET}  ${DIM}${clean(s.url)}${RESET}`,
      )
      lines.push(...tableRows(s.findings, width, cw))
    }
    if (report.routes.length > 0) {
      lines.push(
        `${COLOR[report.routes.some((f) => f.severity === 'error') ? 'error' : report.routes.some((f) => f.severity === 'warn') ? 'warn' : 'ok']}${BOLD}ROUTES${RESET}`,
      )
      lines.push(...tableRows(report.routes, width, cw))
    }
  }
  const c = counts([...full.services.flatMap((s) => s.findings), ...full.routes])
  const notProbed = report.services_not_probed > 0 ? `, ${report.services_not_probed} not probed (cap)` : ''
  const summary = `doctor: ${report.status}: ${plural(report.services.length, 'service')}${notProbed}, ${plural(c.error, 'error')}, ${plural(c.warn, 'warning')}, ${c.ok} ok (${(report.duration_ms / 1000).toFixed(1)} s)`
  lines.push(opts.color ? `${COLOR[report.status]}${summary}${RESET}` : summary)
  return `${lines.join('\n')}\n`
}
