/**
 * The value trees the Admin API fuzzer sends, and their three encodings (JSON, urlencoded form,
 * multipart form). Objects are kept as ordered `[key, value]` lists, never as JS objects, so that
 * hostile keys (`__proto__`, duplicates) survive generation untouched; {@link Raw} carries text or
 * bytes that are written verbatim (huge number literals, invalid UTF-8, deep nesting).
 */

/** Bytes written as they are: inside JSON as a token, inside a form as the value's bytes. */
export class Raw {
  readonly bytes: Buffer
  constructor(bytes: Buffer | string) {
    this.bytes = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes
  }
}

/** An ordered object (duplicate and hostile keys allowed). */
export class Obj {
  readonly entries: [string, Value][]
  constructor(entries: [string, Value][]) {
    this.entries = entries
  }
  get(key: string): Value | undefined {
    return this.entries.find(([k]) => k === key)?.[1]
  }
  set(key: string, value: Value): void {
    const i = this.entries.findIndex(([k]) => k === key)
    if (i >= 0) this.entries[i] = [key, value]
    else this.entries.push([key, value])
  }
}

export type Value = null | boolean | number | string | Raw | Obj | Value[]

/** JSON text of a value tree (non-finite numbers become `null`, as JSON.stringify would). */
export function toJson(v: Value): Buffer {
  const parts: Buffer[] = []
  const walk = (x: Value): void => {
    if (x instanceof Raw) parts.push(x.bytes)
    else if (x instanceof Obj) {
      parts.push(Buffer.from('{'))
      x.entries.forEach(([k, val], i) => {
        parts.push(Buffer.from(`${i === 0 ? '' : ','}${JSON.stringify(k)}:`))
        walk(val)
      })
      parts.push(Buffer.from('}'))
    } else if (Array.isArray(x)) {
      parts.push(Buffer.from('['))
      x.forEach((val, i) => {
        if (i > 0) parts.push(Buffer.from(','))
        walk(val)
      })
      parts.push(Buffer.from(']'))
    } else parts.push(Buffer.from(JSON.stringify(x) ?? 'null'))
  }
  walk(v)
  return Buffer.concat(parts)
}

/** How arrays are spelled in a form: `a[]=`, `a[1]=` or a repeated `a=`. */
export type ArrayStyle = 'brackets' | 'index' | 'repeat'

/** The form pairs of an object, Kong's Admin API notation (`a.b=`, `a[1]=`). */
export function toPairs(root: Obj, style: ArrayStyle): [string, Buffer][] {
  const out: [string, Buffer][] = []
  const walk = (prefix: string, x: Value): void => {
    if (x instanceof Obj) {
      for (const [k, val] of x.entries) walk(prefix === '' ? k : `${prefix}.${k}`, val)
    } else if (Array.isArray(x)) {
      if (x.length === 0) out.push([prefix, Buffer.alloc(0)])
      x.forEach((val, i) => walk(style === 'brackets' ? `${prefix}[]` : style === 'index' ? `${prefix}[${i + 1}]` : prefix, val))
    } else if (x instanceof Raw) out.push([prefix, x.bytes])
    else out.push([prefix, Buffer.from(x === null ? '' : String(x))])
  }
  walk('', root)
  return out
}

function percent(bytes: Buffer): string {
  let s = ''
  for (const b of bytes) {
    const c = String.fromCharCode(b)
    s += /[A-Za-z0-9_.~-]/.test(c) ? c : `%${b.toString(16).padStart(2, '0').toUpperCase()}`
  }
  return s
}

/** `application/x-www-form-urlencoded` body of pairs (keys are UTF-8; lone surrogates become U+FFFD). */
export function toUrlencoded(pairs: readonly [string, Buffer][]): Buffer {
  return Buffer.from(pairs.map(([k, v]) => `${percent(Buffer.from(k, 'utf8'))}=${percent(v)}`).join('&'))
}

/** `multipart/form-data` body of pairs; some parts are sent as files. */
export function toMultipart(pairs: readonly [string, Buffer][], boundary: string, asFile: (i: number) => boolean): Buffer {
  const parts: Buffer[] = []
  pairs.forEach(([k, v], i) => {
    const name = k.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
    const file = asFile(i) ? `; filename="f${i}.txt"\r\nContent-Type: application/octet-stream` : ''
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"${file}\r\n\r\n`), v, Buffer.from('\r\n'))
  })
  parts.push(Buffer.from(`--${boundary}--\r\n`))
  return Buffer.concat(parts)
}
