/**
 * A small authoritative DNS server for tests (node:dgram, UDP on 127.0.0.1, random port).
 *
 * It answers A, AAAA, SRV and CNAME questions from an in-memory zone that tests change at any
 * time, follows CNAMEs inside the zone (as an authoritative server does), answers NXDOMAIN for
 * unknown names, SERVFAIL/REFUSED on demand, counts every question it receives, and can stop
 * answering (to simulate a dead resolver) and start again.
 *
 * The wire format is written here on purpose: this is a test helper; the gateway itself only
 * uses node's `dns.Resolver` (c-ares).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import { isIPv6 } from 'node:net'

export type DnsType = 'A' | 'AAAA' | 'SRV' | 'CNAME'

export interface SrvSpec {
  readonly target: string
  readonly port: number
  readonly weight?: number
  readonly priority?: number
}

/** What the server knows about one name. A missing type means "no data" (NOERROR, empty). */
export interface NameSpec {
  readonly A?: readonly string[]
  readonly AAAA?: readonly string[]
  readonly SRV?: readonly SrvSpec[]
  /** The name is an alias of this one (no other types may be given). */
  readonly CNAME?: string
  /** TTL of every record of this name, seconds (default 60). */
  readonly ttl?: number
  /** Answer every question for this name with this error instead. */
  readonly rcode?: 'SERVFAIL' | 'REFUSED' | 'NXDOMAIN'
}

export interface ReceivedQuery {
  readonly name: string
  readonly type: DnsType | number
  readonly at: number
}

const TYPE_CODES: Readonly<Record<DnsType, number>> = { A: 1, CNAME: 5, AAAA: 28, SRV: 33 }
const CODE_TYPES = new Map<number, DnsType>(Object.entries(TYPE_CODES).map(([k, v]) => [v, k as DnsType]))
const RCODES = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const

export interface TestDnsServer {
  readonly port: number
  /** `127.0.0.1:<port>`, the value for `dns_resolver`. */
  readonly address: string
  /** Every question received, in order. */
  readonly queries: ReceivedQuery[]
  /** Sets (replaces) what the server answers for a name. */
  set(name: string, spec: NameSpec): void
  /** Forgets a name: it answers NXDOMAIN from now on. */
  remove(name: string): void
  /** Questions received for a name (optionally of one type). */
  count(name: string, type?: DnsType): number
  /** Stop answering (questions are still counted), or answer again. */
  silent(on: boolean): void
  /** Delay every answer by this many ms (0 = answer at once). */
  delay(ms: number): void
  close(): Promise<void>
}

function readName(buf: Buffer, start: number): { name: string; end: number } {
  const labels: string[] = []
  let off = start
  let end = -1
  for (let guard = 0; guard < 128; guard++) {
    const len = buf[off]
    if (len === undefined) throw new Error('truncated name')
    if (len === 0) {
      if (end < 0) end = off + 1
      break
    }
    if ((len & 0xc0) === 0xc0) {
      if (end < 0) end = off + 2
      off = ((len & 0x3f) << 8) | (buf[off + 1] ?? 0)
      continue
    }
    labels.push(buf.toString('latin1', off + 1, off + 1 + len))
    off += 1 + len
  }
  return { name: labels.join('.'), end }
}

function encodeName(name: string): Buffer {
  const parts: Buffer[] = []
  for (const label of name.replace(/\.$/, '').split('.')) {
    if (label === '') continue
    const b = Buffer.from(label, 'latin1')
    parts.push(Buffer.from([b.length]), b)
  }
  parts.push(Buffer.from([0]))
  return Buffer.concat(parts)
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.includes('::') ? (address.split('::') as [string, string]) : [address, undefined]
  const h = head === '' ? [] : head.split(':')
  const t = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t]
  const out = Buffer.alloc(16)
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2))
  return out
}

function rr(name: Buffer, type: number, ttl: number, rdata: Buffer): Buffer {
  const head = Buffer.alloc(10)
  head.writeUInt16BE(type, 0)
  head.writeUInt16BE(1, 2)
  head.writeUInt32BE(ttl, 4)
  head.writeUInt16BE(rdata.length, 8)
  return Buffer.concat([name, head, rdata])
}

/** Starts the server on 127.0.0.1 with a random port. */
export async function startDnsServer(initial: Record<string, NameSpec> = {}): Promise<TestDnsServer> {
  const zone = new Map<string, NameSpec>()
  for (const [k, v] of Object.entries(initial)) zone.set(k.toLowerCase(), v)
  const queries: ReceivedQuery[] = []
  let silent = false
  let delayMs = 0
  const socket: Socket = createSocket('udp4')

  function answer(msg: Buffer): Buffer | null {
    if (msg.length < 12) return null
    const id = msg.readUInt16BE(0)
    const flags = msg.readUInt16BE(2)
    const qd = msg.readUInt16BE(4)
    if (qd !== 1) return null
    const q = readName(msg, 12)
    const qtype = msg.readUInt16BE(q.end)
    const question = msg.subarray(12, q.end + 4)
    const name = q.name.toLowerCase()
    queries.push({ name, type: CODE_TYPES.get(qtype) ?? qtype, at: Date.now() })

    const answers: Buffer[] = []
    let rcode: number = RCODES.NOERROR
    let spec = zone.get(name)
    let owner: Buffer = Buffer.from([0xc0, 0x0c]) // pointer to the question's name
    if (spec === undefined) rcode = RCODES.NXDOMAIN
    else if (spec.rcode !== undefined) rcode = RCODES[spec.rcode]
    else {
      // Follow CNAMEs inside the zone, as an authoritative server does (bounded).
      for (let hops = 0; spec !== undefined && spec.CNAME !== undefined && qtype !== TYPE_CODES.CNAME && hops < 8; hops++) {
        const target = spec.CNAME.toLowerCase()
        answers.push(rr(owner, TYPE_CODES.CNAME, spec.ttl ?? 60, encodeName(target)))
        owner = encodeName(target)
        spec = zone.get(target)
      }
      if (spec !== undefined && spec.rcode === undefined) {
        const ttl = spec.ttl ?? 60
        if (qtype === TYPE_CODES.A) for (const a of spec.A ?? []) answers.push(rr(owner, qtype, ttl, Buffer.from(a.split('.').map(Number))))
        else if (qtype === TYPE_CODES.AAAA) for (const a of spec.AAAA ?? []) answers.push(rr(owner, qtype, ttl, ipv6Bytes(a)))
        else if (qtype === TYPE_CODES.CNAME && spec.CNAME !== undefined) answers.push(rr(owner, qtype, ttl, encodeName(spec.CNAME)))
        else if (qtype === TYPE_CODES.SRV) {
          for (const s of spec.SRV ?? []) {
            const fixed = Buffer.alloc(6)
            fixed.writeUInt16BE(s.priority ?? 10, 0)
            fixed.writeUInt16BE(s.weight ?? 10, 2)
            fixed.writeUInt16BE(s.port, 4)
            answers.push(rr(owner, qtype, ttl, Buffer.concat([fixed, encodeName(s.target)])))
          }
        }
      }
    }
    const header = Buffer.alloc(12)
    header.writeUInt16BE(id, 0)
    // QR, opcode copied, AA, RD copied, RA, rcode
    header.writeUInt16BE(0x8000 | (flags & 0x7800) | 0x0400 | (flags & 0x0100) | 0x0080 | rcode, 2)
    header.writeUInt16BE(1, 4)
    header.writeUInt16BE(answers.length, 6)
    return Buffer.concat([header, question, ...answers])
  }

  socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    let reply: Buffer | null
    try {
      reply = answer(msg)
    } catch {
      return
    }
    if (reply === null || silent) return
    const send = (): void => socket.send(reply, rinfo.port, rinfo.address)
    if (delayMs > 0) setTimeout(send, delayMs).unref()
    else send()
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(0, '127.0.0.1', () => resolve())
  })
  const port = socket.address().port
  return {
    port,
    address: `127.0.0.1:${port}`,
    queries,
    set(name, spec) {
      for (const a of spec.AAAA ?? []) if (!isIPv6(a)) throw new Error(`not an IPv6 address: ${a}`)
      zone.set(name.toLowerCase(), spec)
    },
    remove(name) {
      zone.delete(name.toLowerCase())
    },
    count(name, type) {
      const n = name.toLowerCase()
      return queries.filter((q) => q.name === n && (type === undefined || q.type === type)).length
    },
    silent(on) {
      silent = on
    },
    delay(ms) {
      delayMs = ms
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  }
}
