/**
 * Helpers of the input-decoding hardening tests: calls that give up instead of hanging (the old
 * code spun for minutes on some of these inputs), and a stop that cannot hang either.
 */
import { rmSync } from 'node:fs'
import { request } from 'undici'
import type { TestGateway } from '../helpers/gateway.js'

export interface Answer {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly text: string
  /** Parsed JSON, or undefined. */
  readonly body: any // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly ms: number
}

/** One call with a raw body that fails after `timeoutMs` instead of waiting for a stuck server. */
export async function send(
  method: string,
  url: string,
  body: string | Buffer | undefined,
  headers: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<Answer> {
  const started = performance.now()
  const res = await request(url, {
    method: method as 'POST',
    headers,
    body: body ?? null,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  })
  const text = await res.body.text()
  let parsed: unknown
  try {
    parsed = text === '' ? undefined : JSON.parse(text)
  } catch {
    parsed = undefined
  }
  return { status: res.statusCode, headers: res.headers, text, body: parsed, ms: performance.now() - started }
}

/** An urlencoded body. */
export function form(url: string, text: string, method = 'POST', timeoutMs?: number): Promise<Answer> {
  return send(method, url, text, { 'content-type': 'application/x-www-form-urlencoded' }, timeoutMs)
}

/** A JSON body, given as text (so that it can be hostile). */
export function json(url: string, text: string, method = 'POST', timeoutMs?: number): Promise<Answer> {
  return send(method, url, text, { 'content-type': 'application/json' }, timeoutMs)
}

/** Stops the gateway gracefully, or kills it when a stuck process does not exit in time. */
export async function stopWithin(gw: TestGateway, ms = 20_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const gaveUp = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)))
  const outcome = await Promise.race([gw.stop(), gaveUp])
  clearTimeout(timer)
  if (outcome === 'late') {
    await gw.kill()
    rmSync(gw.prefix, { recursive: true, force: true })
  }
}
