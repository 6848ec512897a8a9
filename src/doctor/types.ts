/**
 * What `turnpike doctor` (and `GET /doctor`) reports: findings with stable field names. A finding
 * is one check's verdict on one subject: the cause in one line, and the fix in one line.
 *
 * @module
 */

/** `ok`: the check passed; `warn`: works today but will bite; `error`: requests fail because of it. */
export type Severity = 'ok' | 'warn' | 'error'

/** The entity a finding is about. */
export interface FindingSubject {
  readonly kind: 'service' | 'route' | 'upstream' | 'target' | 'plugin' | 'node'
  readonly id: string | null
  readonly name: string | null
}

export interface Finding {
  /**
   * Stable identifier of the check, e.g. `dns`, `tcp`, `tls`, `http`, `keepalive`, `target-health`,
   * `route-shadowed`, `route-conflict`, `route-strip-path`, `route-protocols`, `plugin-refuses-all`.
   */
  readonly check: string
  readonly severity: Severity
  readonly subject: FindingSubject
  /** One line: what was found (the cause, in the seed documents' words when it is a fault). */
  readonly summary: string
  /** One line: what to do about it; absent when there is nothing to do. */
  readonly fix?: string
  /** Measured facts behind the verdict (addresses, timings, status codes, example requests …). */
  readonly details?: Readonly<Record<string, unknown>>
}

/** The worst severity of a list of findings (`ok` for none). */
export function worstSeverity(findings: readonly Finding[]): Severity {
  let worst: Severity = 'ok'
  for (const f of findings) {
    if (f.severity === 'error') return 'error'
    if (f.severity === 'warn') worst = 'warn'
  }
  return worst
}
