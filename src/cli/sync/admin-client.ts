/**
 * A small Admin API client for `turnpike config …`: works against Turnpike and Kong alike
 * (paging with `offset`, `?tags=` filters, `--header` for tokens).
 *
 * @module
 */
import type { Row } from '../../store/index.js'

export class AdminApiError extends Error {
  readonly status: number
  readonly body: unknown
  constructor(method: string, path: string, status: number, body: unknown) {
    const detail =
      body !== null && typeof body === 'object' && 'message' in body
        ? String((body as { message: unknown }).message)
        : typeof body === 'string'
          ? body
          : JSON.stringify(body)
    super(`${method} ${path} answered ${status}: ${detail}`)
    this.name = 'AdminApiError'
    this.status = status
    this.body = body
  }
}

export class AdminClient {
  readonly baseUrl: string
  readonly #headers: Record<string, string>

  /** `headers`: `Name: value` strings (e.g. `Kong-Admin-Token: …`). */
  constructor(baseUrl: string, headers: readonly string[] = []) {
    this.baseUrl = baseUrl.replace(/\/+$/, '')
    this.#headers = {}
    for (const h of headers) {
      const at = h.indexOf(':')
      if (at <= 0) throw new Error(`invalid --header ${JSON.stringify(h)}: expected 'Name: value'`)
      this.#headers[h.slice(0, at).trim()] = h.slice(at + 1).trim()
    }
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<{ status: number; body: unknown }> {
    let res: Response
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { ...this.#headers, ...(body === undefined ? {} : { 'Content-Type': contentType }) },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
        signal: AbortSignal.timeout(60_000),
      })
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause
      throw new Error(
        `cannot reach the Admin API at ${this.baseUrl}: ${cause?.code ?? cause?.message ?? (err as Error).message} (is the gateway running? set --admin-url)`,
      )
    }
    const text = await res.text()
    let parsed: unknown = text
    try {
      parsed = text === '' ? null : JSON.parse(text)
    } catch {
      // keep the text
    }
    return { status: res.status, body: parsed }
  }

  async expect(method: string, path: string, statuses: readonly number[], body?: unknown): Promise<unknown> {
    const res = await this.request(method, path, body)
    if (!statuses.includes(res.status)) throw new AdminApiError(method, path, res.status, res.body)
    return res.body
  }

  /** `GET /`. */
  info(): Promise<Record<string, unknown>> {
    return this.expect('GET', '/', [200]) as Promise<Record<string, unknown>>
  }

  /** Every row of an entity, optionally only those with all `tags`. */
  async listAll(entity: string, tags: readonly string[] = []): Promise<Row[]> {
    const out: Row[] = []
    let offset: string | undefined
    for (let page = 0; page < 100_000; page++) {
      const q = new URLSearchParams({ size: '1000' })
      if (tags.length > 0) q.set('tags', tags.join(','))
      if (offset !== undefined) q.set('offset', offset)
      const body = (await this.expect('GET', `/${entity}?${q.toString()}`, [200])) as { data?: Row[]; offset?: string | null }
      out.push(...(body.data ?? []))
      if (typeof body.offset !== 'string' || body.offset === '') break
      offset = body.offset
    }
    return out
  }
}
