/**
 * Types of the DNS client (see docs/dns.md).
 *
 * @module
 */

export type RecordType = 'A' | 'AAAA' | 'SRV' | 'CNAME'
/** An entry of `dns_order`: a record type, or LAST (the last type that worked for the name). */
export type OrderEntry = RecordType | 'LAST'

/** DNS type numbers, as Kong's try list prints them (`name:33` is an SRV query). */
export const QTYPE: Readonly<Record<RecordType, number>> = { A: 1, CNAME: 5, AAAA: 28, SRV: 33 }

export interface DnsRecord {
  readonly type: RecordType
  readonly name: string
  /** A / AAAA: the address. */
  readonly address?: string
  /** SRV / CNAME: the name pointed to (an SRV target may also be an IP literal). */
  readonly target?: string
  /** SRV only. */
  readonly port?: number
  readonly weight?: number
  readonly priority?: number
  /** Seconds, as the server gave it (or `dns_valid_ttl` when set). */
  readonly ttl: number
}

/** Where an answer came from: `ip:port` of the nameserver, `hosts file <path>`, or `ip literal`. */
export type AnswerSource = string

export interface DnsClientOptions {
  /** `ip[:port]` nameservers; empty = those of resolv.conf. */
  readonly nameservers?: readonly string[]
  readonly hostsFile?: string
  /** Path of resolv.conf (search, ndots, timeout, attempts; nameservers when none are given). */
  readonly resolvConf?: string
  readonly order?: readonly OrderEntry[]
  /** Seconds overriding every record TTL; null = the records' own TTL. */
  readonly validTtl?: number | null
  readonly staleTtl?: number
  readonly notFoundTtl?: number
  readonly errorTtl?: number
  readonly cacheSize?: number
  readonly noSync?: boolean
  /** Per-try timeout in ms and tries per query; default from resolv.conf (2000 ms, 5 tries). */
  readonly timeoutMs?: number
  readonly attempts?: number
}

/** One resolved address (Kong's `toip`): what the proxy connects to. */
export interface ResolvedAddress {
  readonly ok: true
  readonly name: string
  readonly address: string
  /** The port from an SRV record, or null (use the service's port). */
  readonly port: number | null
  /** The SRV weight, or null. */
  readonly weight: number | null
  /** The record type that resolved the name: SRV when an SRV record gave the port. */
  readonly type: RecordType
  /** TTL in seconds of the answer used (the SRV record's for SRV). */
  readonly ttl: number
  readonly source: AnswerSource
  /** Served from an expired cache entry while a refresh runs in the background. */
  readonly stale: boolean
}

export interface ResolveFailure {
  readonly ok: false
  readonly name: string
  /** Kong's wording: `dns server error: 3 name error`, `dns client error: 101 empty record received` … */
  readonly message: string
  /** NXDOMAIN, EMPTY, SERVFAIL, REFUSED, FORMERR, NOTIMP, TIMEOUT, CONNREFUSED, RECURSION, NO_NAMESERVERS … */
  readonly code: string
  /** Kong answers 503 `name resolution failed` for these (name error / empty); others 500. */
  readonly notFound: boolean
  /** Kong's try list: `["name:33 - cache-miss/querying/dns server error: 3 name error", …]`. */
  readonly tried: string
  /** The nameservers asked, `ip:port, …`. */
  readonly nameservers: string
}

export type ResolveAnswer = ResolvedAddress | ResolveFailure

/** All records of a name (for a balancer): A/AAAA addresses, or SRV entries with port and weight. */
export interface RecordSet {
  readonly ok: true
  readonly name: string
  readonly type: RecordType
  readonly records: readonly DnsRecord[]
  readonly ttl: number
  readonly source: AnswerSource
  readonly stale: boolean
}

export type LookupAnswer = RecordSet | ResolveFailure
