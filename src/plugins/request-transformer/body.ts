/**
 * Request bodies and query strings as the `request-transformer` plugin edits them: nginx's
 * `decode_args`/`encode_args` for query strings and form bodies, and a small multipart/form-data
 * reader and writer that keeps each part's headers (files included) untouched.
 *
 * @module
 */
import { escapeUri } from '../../codec/escape-uri.js'
import { setOwn } from '../../schema/index.js'

/** Decoded arguments: a bare `name` is `true`, repeated names are arrays (ngx.decode_args). */
export type Args = Record<string, string | true | (string | true)[]>

function unescape(s: string): string {
  const plus = s.replace(/\+/g, ' ')
  try {
    return decodeURIComponent(plus)
  } catch {
    return plus.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))
  }
}

/** nginx's `ngx.decode_args`. */
export function decodeArgs(raw: string): Args {
  const out: Args = {}
  for (const part of raw.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const name = unescape(eq === -1 ? part : part.slice(0, eq))
    if (name === '') continue
    const value: string | true = eq === -1 ? true : unescape(part.slice(eq + 1))
    // Own values only, `__proto__` as an own name: a client's `__proto__` argument is kept as
    // nginx keeps it, and never becomes the object's prototype.
    const prev = Object.hasOwn(out, name) ? out[name] : undefined
    if (prev === undefined) setOwn(out, name, value)
    else if (Array.isArray(prev)) prev.push(value)
    else out[name] = [prev, value]
  }
  return out
}

/** nginx's `ngx.encode_args`: `true` is a bare name, `false` is left out, arrays repeat the name. */
export function encodeArgs(args: Readonly<Record<string, unknown>>): string {
  const parts: string[] = []
  for (const [name, value] of Object.entries(args)) {
    for (const v of Array.isArray(value) ? (value as unknown[]) : [value]) {
      if (v === true) parts.push(escapeUri(name))
      else if (v === false || v === undefined || v === null) continue
      else
        parts.push(
          `${escapeUri(name)}=${escapeUri(typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v as number))}`,
        )
    }
  }
  return parts.join('&')
}

/** One part of a multipart body. */
interface Part {
  name: string
  /** Header lines as received (without the final CRLF). */
  headers: string[]
  value: Buffer
}

/** A multipart/form-data body being edited; order of parts is kept. */
export class MultipartForm {
  readonly boundary: string
  readonly #parts: Part[]

  constructor(boundary: string, parts: Part[]) {
    this.boundary = boundary
    this.#parts = parts
  }

  get(name: string): Buffer | undefined {
    return this.#parts.find((p) => p.name === name)?.value
  }

  names(): string[] {
    return this.#parts.map((p) => p.name)
  }

  /** Sets a simple field (a new part at the end when absent), as lua-multipart's `set_simple`. */
  set(name: string, value: Buffer): void {
    const part = this.#parts.find((p) => p.name === name)
    if (part !== undefined) {
      part.value = value
      return
    }
    this.#parts.push({ name, headers: [`Content-Disposition: form-data; name="${name.replace(/"/g, '%22')}"`], value })
  }

  delete(name: string): void {
    for (let i = this.#parts.length - 1; i >= 0; i--) if ((this.#parts[i] as Part).name === name) this.#parts.splice(i, 1)
  }

  parts(): readonly Part[] {
    return this.#parts
  }
}

/** The boundary parameter of a multipart Content-Type, or null. */
export function boundaryOf(contentType: string): string | null {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
  return m === null ? null : (m[1] ?? m[2] ?? null)
}

/** Parses a multipart/form-data body; null when it has no boundary. An empty body has no parts. */
export function parseMultipart(body: Buffer, contentType: string): MultipartForm | null {
  const boundary = boundaryOf(contentType)
  if (boundary === null) return null
  const parts: Part[] = []
  const delimiter = Buffer.from(`--${boundary}`)
  let at = body.indexOf(delimiter)
  // Bounded by the body: each step moves forward past one delimiter.
  while (at !== -1) {
    let start = at + delimiter.length
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break // closing delimiter
    if (body[start] === 0x0d && body[start + 1] === 0x0a) start += 2
    const next = body.indexOf(delimiter, start)
    if (next === -1) break
    let end = next
    if (body[end - 2] === 0x0d && body[end - 1] === 0x0a) end -= 2
    const chunk = body.subarray(start, end)
    const sep = chunk.indexOf('\r\n\r\n')
    const head = sep === -1 ? chunk.toString('utf8') : chunk.subarray(0, sep).toString('utf8')
    const value = sep === -1 ? Buffer.alloc(0) : Buffer.from(chunk.subarray(sep + 4))
    const headers = head === '' ? [] : head.split('\r\n')
    const disposition = headers.find((h) => /^content-disposition:/i.test(h)) ?? ''
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1] ?? /\bname=([^;\s]+)/i.exec(disposition)?.[1] ?? ''
    parts.push({ name, headers, value })
    at = next
  }
  return new MultipartForm(boundary, parts)
}

/** Writes the form back with its boundary. */
export function serializeMultipart(form: MultipartForm): Buffer {
  const chunks: Buffer[] = []
  for (const p of form.parts()) {
    chunks.push(Buffer.from(`--${form.boundary}\r\n${p.headers.join('\r\n')}\r\n\r\n`), p.value, Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${form.boundary}--\r\n`))
  return Buffer.concat(chunks)
}
