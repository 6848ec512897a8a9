/**
 * Percent-decoding to UTF-8 text with the failure Kong reports: the bytes a client sent (percent
 * escapes, and raw bytes that Node's parser hands over as latin-1 characters) are decoded as
 * UTF-8, and an invalid sequence is reported by its 1-based byte position, as Kong's
 * `invalid utf-8 character sequence detected at position N`.
 *
 * @module
 */

/** The decoded text, or the byte position of the first invalid UTF-8 sequence. */
export type PercentDecoded = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly position: number }

const HEX = /^[0-9A-Fa-f]{2}$/
const fatal = new TextDecoder('utf-8', { fatal: true })
const encoder = new TextEncoder()

/** The bytes of `raw`: `%XX` escapes decoded, other characters as latin-1 bytes (or UTF-8 above U+00FF). */
function bytesOf(raw: string): Uint8Array {
  const out: number[] = []
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i)
    if (c === 0x25 && HEX.test(raw.slice(i + 1, i + 3))) {
      out.push(parseInt(raw.slice(i + 1, i + 3), 16))
      i += 2
    } else if (c < 0x100) out.push(c)
    else {
      const cp = raw.codePointAt(i) ?? c
      for (const b of encoder.encode(String.fromCodePoint(cp))) out.push(b)
      if (cp > 0xffff) i++
    }
  }
  return Uint8Array.from(out)
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0 when it is invalid. */
function sequenceLength(b: Uint8Array, i: number): number {
  const lead = b[i] ?? 0
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => (b[i + k] ?? 0) >= lo && (b[i + k] ?? 0) <= hi
  if (lead < 0x80) return 1
  if (lead >= 0xc2 && lead <= 0xdf) return cont(1) ? 2 : 0
  if (lead === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0
  if (lead === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0
  if (lead >= 0xe1 && lead <= 0xef) return cont(1) && cont(2) ? 3 : 0
  if (lead === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0
  if (lead === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0
  if (lead >= 0xf1 && lead <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0
  return 0
}

/** Decodes `raw` (a path segment or query value as received) to text, or says where the UTF-8 breaks. */
export function percentDecodeUtf8(raw: string): PercentDecoded {
  const bytes = bytesOf(raw)
  try {
    return { ok: true, value: fatal.decode(bytes) }
  } catch {
    let i = 0
    for (let n = sequenceLength(bytes, i); n > 0; n = sequenceLength(bytes, i)) i += n
    return { ok: false, position: i + 1 }
  }
}
