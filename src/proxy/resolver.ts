/**
 * The proxy's view of DNS: a thin adapter over the DNS client (src/dns/), which implements
 * Kong's resolver settings (`dns_resolver`, `dns_hostsfile`, `dns_order`, `dns_*_ttl`,
 * `dns_cache_size`, `dns_no_sync`). `resolve(host)` answers synchronously from the cache (a
 * stale answer is served while it is refreshed in the background) and returns a promise only
 * when the name must be queried.
 *
 * A hostname that names an upstream must never reach this resolver: the balancer handles it.
 */
import { DnsClient } from '../dns/index.js'
import type { DnsClientOptions, ResolvedAddress, ResolveFailure } from '../dns/index.js'
import type { GatewayConfig } from '../config/index.js'

export type ResolveOk = ResolvedAddress
export type ResolveFailed = ResolveFailure
export type ResolveResult = ResolveOk | ResolveFailed

/** The DNS client options from the gateway settings. */
export function dnsOptions(
  config: Pick<
    GatewayConfig,
    | 'dns_resolver'
    | 'dns_hostsfile'
    | 'dns_order'
    | 'dns_valid_ttl'
    | 'dns_stale_ttl'
    | 'dns_not_found_ttl'
    | 'dns_error_ttl'
    | 'dns_cache_size'
    | 'dns_no_sync'
  >,
): DnsClientOptions {
  return {
    nameservers: config.dns_resolver,
    hostsFile: config.dns_hostsfile,
    order: config.dns_order,
    validTtl: config.dns_valid_ttl,
    staleTtl: config.dns_stale_ttl,
    notFoundTtl: config.dns_not_found_ttl,
    errorTtl: config.dns_error_ttl,
    cacheSize: config.dns_cache_size,
    noSync: config.dns_no_sync,
  }
}

export class HostResolver {
  readonly client: DnsClient

  constructor(client: DnsClient | DnsClientOptions = {}) {
    this.client = client instanceof DnsClient ? client : new DnsClient(client)
  }

  /** A cached answer (rotating over addresses, weighted over SRV records), or a promise when the name must be looked up. */
  resolve(host: string): ResolveResult | Promise<ResolveResult> {
    return this.client.resolve(host)
  }

  /** The nameservers queried, `ip:port, …`, for log lines and hints. */
  get nameservers(): string {
    return this.client.nameservers.length > 0 ? this.client.nameservers.join(', ') : '(none)'
  }
}
