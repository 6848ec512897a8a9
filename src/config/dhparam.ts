/**
 * kong.conf's `ssl_dhparam` (Kong's `conf_loader/parse.lua`): a predefined RFC 7919 group
 * (`ffdhe2048` … `ffdhe8192`), the path of a PEM file of DH parameters, or the PEM text itself
 * (or its base64). The result is PEM that node's `dhparam` option takes. Node has no ffdhe groups,
 * so their primes are computed from RFC 7919's formula (the digits of e) and encoded here.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { createSecureContext } from 'node:tls'
import { ValueProblem } from './value-problem.js'

/** RFC 7919's groups: the size in bits and the X that makes p a safe prime. */
const FFDHE: Readonly<Record<string, { readonly bits: number; readonly x: bigint }>> = {
  ffdhe2048: { bits: 2048, x: 560316n },
  ffdhe3072: { bits: 3072, x: 2625351n },
  ffdhe4096: { bits: 4096, x: 5736041n },
  ffdhe6144: { bits: 6144, x: 15705020n },
  ffdhe8192: { bits: 8192, x: 10965728n },
}

/** floor(e · 2^bits), from the series Σ 1/k! with 64 guard bits (the truncation error stays far below them). */
function eTimesPowerOfTwo(bits: number): bigint {
  const guard = 64n
  const one = 1n << (BigInt(bits) + guard)
  let sum = one
  let term = one
  // k! outgrows 2^(bits+64) long before k = 2000 for bits ≤ 8192.
  for (let k = 1n; term > 0n && k < 4000n; k++) {
    term /= k
    sum += term
  }
  return sum >> guard
}

/** RFC 7919 §A: p = 2^b − 2^(b−64) + {⌊2^(b−130) e⌋ + X} · 2^64 − 1. */
export function ffdhePrime(group: string): bigint | null {
  const g = Object.hasOwn(FFDHE, group) ? FFDHE[group] : undefined
  if (g === undefined) return null
  const b = BigInt(g.bits)
  return (1n << b) - (1n << (b - 64n)) + (eTimesPowerOfTwo(g.bits - 130) + g.x) * (1n << 64n) - 1n
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const bytes: number[] = []
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}

function derInteger(v: bigint): Buffer {
  let hex = v.toString(16)
  if (hex.length % 2 === 1) hex = `0${hex}`
  let body = Buffer.from(hex, 'hex')
  if ((body[0] ?? 0) & 0x80) body = Buffer.concat([Buffer.from([0]), body])
  return Buffer.concat([Buffer.from([0x02]), derLength(body.length), body])
}

/** PKCS#3 DHParameter { prime, generator 2 } as PEM. */
function dhParamsPem(prime: bigint): string {
  const body = Buffer.concat([derInteger(prime), derInteger(2n)])
  const der = Buffer.concat([Buffer.from([0x30]), derLength(body.length), body])
  const lines = der.toString('base64').match(/.{1,64}/g) ?? []
  return `-----BEGIN DH PARAMETERS-----\n${lines.join('\n')}\n-----END DH PARAMETERS-----\n`
}

/** The PEM text of a predefined group, a file or the value itself; throws {@link ValueProblem}. */
export function parseDhParam(value: string, cwd: string): { pem: string; source: string } | null {
  const v = value.trim()
  if (v === '') return null
  const prime = ffdhePrime(v)
  if (prime !== null) return { pem: dhParamsPem(prime), source: v }
  let pem: string
  let source: string
  if (!v.includes('-----BEGIN') && existsSync(resolve(cwd, v))) {
    source = resolve(cwd, v)
    try {
      pem = readFileSync(source, 'utf8')
    } catch (err) {
      throw new ValueProblem(`cannot read ${source}: ${(err as Error).message}`)
    }
  } else {
    source = 'inline'
    pem = v.includes('-----BEGIN') ? v : Buffer.from(v, 'base64').toString('utf8')
  }
  // Kong's message: `ssl_dhparam: failed loading certificate from <value>`; a path that is not
  // there says so.
  const from = source !== 'inline' ? source : /^\.{0,2}\//.test(v) ? `${v} (no such file)` : 'the value'
  const failed = (): ValueProblem =>
    new ValueProblem(
      `failed loading DH parameters from ${from} (expected ffdhe2048, ffdhe3072, ffdhe4096, ffdhe6144, ffdhe8192, a PEM file or PEM text)`,
      source === 'inline' ? `${v.slice(0, 40)}${v.length > 40 ? '…' : ''}` : v,
    )
  const bits = primeBits(pem)
  if (bits === null) throw failed()
  // node refuses smaller groups (OpenSSL's security level would too).
  if (bits < 1024) throw new ValueProblem(`DH parameters of ${bits} bits are too small (at least 1024, 2048 recommended)`, source)
  try {
    createSecureContext({ dhparam: pem })
  } catch {
    throw failed()
  }
  return { pem, source }
}

/** Reads a DER length at `i`: [length, next offset], or null. */
function readLength(der: Buffer, i: number): [number, number] | null {
  const first = der[i]
  if (first === undefined) return null
  if (first < 0x80) return [first, i + 1]
  const n = first & 0x7f
  if (n === 0 || n > 3) return null
  let len = 0
  for (let k = 1; k <= n; k++) {
    const b = der[i + k]
    if (b === undefined) return null
    len = len * 256 + b
  }
  return [len, i + 1 + n]
}

/**
 * The size of the prime of PEM `DH PARAMETERS` (PKCS#3: SEQUENCE { INTEGER p, INTEGER g … }), or
 * null when the text is not that (node would ignore it without a word).
 */
function primeBits(pem: string): number | null {
  const m = /-----BEGIN DH PARAMETERS-----([A-Za-z0-9+/=\s]+)-----END DH PARAMETERS-----/.exec(pem)
  if (m === null) return null
  const der = Buffer.from((m[1] ?? '').replace(/\s/g, ''), 'base64')
  if (der[0] !== 0x30) return null
  const seq = readLength(der, 1)
  if (seq === null || seq[1] + seq[0] !== der.length || der[seq[1]] !== 0x02) return null
  const p = readLength(der, seq[1] + 1)
  if (p === null || p[0] === 0 || p[1] + p[0] > der.length || der[p[1] + p[0]] !== 0x02) return null
  let start = p[1]
  while (start < p[1] + p[0] - 1 && der[start] === 0) start++
  return (p[1] + p[0] - start) * 8 - Math.clz32(der[start] ?? 0) + 24
}
