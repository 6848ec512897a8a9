/**
 * Rewrites a regex source so that it matches ASCII letters in either case without the `i` flag
 * (`a` becomes `[aA]`, `[a-f]` becomes `[a-fA-F]`), for V8 versions whose linear engine does not
 * take `i`. Only ASCII letters are folded: request paths are matched as one char per UTF-8 byte,
 * and a byte of a multi-byte character is no letter.
 *
 * @module
 */

const isUpper = (c: number): boolean => c >= 0x41 && c <= 0x5a
const isLower = (c: number): boolean => c >= 0x61 && c <= 0x7a
const hex = (c: number): string => `\\x${c.toString(16).padStart(2, '0')}`

/** The other-case counterparts of the letters in lo..hi, as class ranges (`''` when none). */
function foldedRange(lo: number, hi: number): string {
  let out = ''
  const up0 = Math.max(lo, 0x41)
  const up1 = Math.min(hi, 0x5a)
  if (up0 <= up1) out += `${hex(up0 + 32)}-${hex(up1 + 32)}`
  const lo0 = Math.max(lo, 0x61)
  const lo1 = Math.min(hi, 0x7a)
  if (lo0 <= lo1) out += `${hex(lo0 - 32)}-${hex(lo1 - 32)}`
  return out
}

/** The char code a `\x..`/`\u....` escape at i stands for, and its length; null if none. */
function hexEscape(src: string, i: number): { code: number; length: number } | null {
  const kind = src.charAt(i + 1)
  const digits = kind === 'x' ? 2 : kind === 'u' ? 4 : 0
  if (digits === 0) return null
  const text = src.slice(i + 2, i + 2 + digits)
  if (text.length !== digits || !/^[0-9A-Fa-f]+$/.test(text)) return null
  return { code: parseInt(text, 16), length: 2 + digits }
}

/** One class atom at i: a single char code (or -1 for a class escape like `\d`) and its length. */
function classAtom(src: string, i: number): { code: number; length: number } {
  if (src.charAt(i) !== '\\') return { code: src.charCodeAt(i), length: 1 }
  const esc = hexEscape(src, i)
  if (esc !== null) return esc
  const next = src.charAt(i + 1)
  if (next === 'c') return { code: -1, length: 3 }
  // \d \w \s \D \W \S and \b (backspace) … are left as they are; an escaped punctuation is itself.
  if (/[A-Za-z0-9]/.test(next)) return { code: -1, length: 2 }
  return { code: src.charCodeAt(i + 1), length: 2 }
}

/** `source` with ASCII letters folded, or null when it cannot be (backreferences, unclosed class). */
export function foldAsciiCase(src: string): string | null {
  let out = ''
  let i = 0
  const n = src.length
  while (i < n) {
    const ch = src.charAt(i)
    const c = src.charCodeAt(i)
    if (ch === '\\') {
      const esc = hexEscape(src, i)
      if (esc !== null) {
        const text = src.slice(i, i + esc.length)
        out += isUpper(esc.code) || isLower(esc.code) ? `[${text}${foldedRange(esc.code, esc.code)}]` : text
        i += esc.length
      } else if (/[1-9k]/.test(src.charAt(i + 1))) {
        // A backreference compares case-insensitively under `i`: no folding can say that.
        return null
      } else if (src.charAt(i + 1) === 'c') {
        out += src.slice(i, i + 3)
        i += 3
      } else {
        out += src.slice(i, i + 2)
        i += 2
      }
    } else if (ch === '[') {
      // A class ends at the first unescaped `]` (JavaScript: `[]` is the empty class).
      let j = i + 1
      if (src.charAt(j) === '^') j++
      let extra = ''
      while (j < n && src.charAt(j) !== ']') {
        const a = classAtom(src, j)
        j += a.length
        if (src.charAt(j) === '-' && j + 1 < n && src.charAt(j + 1) !== ']') {
          const b = classAtom(src, j + 1)
          j += 1 + b.length
          if (a.code >= 0 && b.code >= 0) extra += foldedRange(a.code, b.code)
        } else if (a.code >= 0) {
          extra += foldedRange(a.code, a.code)
        }
      }
      if (j >= n) return null
      out += src.slice(i, j) + extra + ']'
      i = j + 1
    } else if (ch === '(' && src.startsWith('(?<', i) && !src.startsWith('(?<=', i) && !src.startsWith('(?<!', i)) {
      const end = src.indexOf('>', i)
      if (end < 0) return null
      out += src.slice(i, end + 1)
      i = end + 1
    } else if (isUpper(c) || isLower(c)) {
      out += `[${ch}${String.fromCharCode(isUpper(c) ? c + 32 : c - 32)}]`
      i++
    } else {
      out += ch
      i++
    }
  }
  return out
}
