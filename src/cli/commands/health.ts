/**
 * `turnpike health`: is the gateway in this prefix running, and does its status endpoint answer?
 * The addresses come from what the running node wrote in its prefix (as `kong health` reads
 * `.kong_env`), so `-p prefix` alone finds a gateway on any port.
 */
import type { GatewayConfig } from '../../config/index.js'
import { outbound } from '../../http/outbound.js'
import { listenerUrl, readListenFile } from '../../runtime/listen-file.js'
import { runningPid } from '../../runtime/primary.js'

/** The running node's Admin API (or status API) base URL, from its prefix, else from the settings. */
export function runningAdminUrl(config: GatewayConfig): string | undefined {
  const record = readListenFile(config.prefix)
  if (record !== null && record.pid === runningPid(config.prefix))
    return listenerUrl(record.admin_listen) ?? listenerUrl(record.status_listen)
  const admin = config.admin_listen.find((l) => !l.ssl)
  if (admin === undefined) return undefined
  const host =
    admin.host === '0.0.0.0' ? '127.0.0.1' : admin.host === '::' ? '[::1]' : admin.host.includes(':') ? `[${admin.host}]` : admin.host
  return `http://${host}:${admin.port}`
}

export async function healthCommand(config: GatewayConfig): Promise<number> {
  const pid = runningPid(config.prefix)
  if (pid === null) {
    process.stderr.write(`Error: turnpike is not running in ${config.prefix}\n`)
    return 1
  }
  const base = runningAdminUrl(config)
  if (base !== undefined) {
    try {
      const res = await outbound.request({
        method: 'GET',
        origin: base,
        path: '/status',
        connectTimeoutMs: 5000,
        readTimeoutMs: 5000,
        ...(base.startsWith('https:') ? { tls: { verify: false } } : {}),
      })
      if (!res.ok) throw new Error(res.failure.message)
      const body = JSON.parse(res.body.toString('utf8')) as { database?: { reachable?: boolean } }
      if (res.status !== 200) throw new Error(`status ${res.status}`)
      process.stdout.write(
        `turnpike is healthy at ${config.prefix} (pid ${pid}, ${base}, database reachable: ${String(body.database?.reachable ?? 'n/a')})\n`,
      )
      return 0
    } catch (err) {
      process.stderr.write(
        `Error: turnpike (pid ${pid}) is running but its Admin API at ${base} does not answer: ${(err as Error).message}\n`,
      )
      return 1
    }
  }
  process.stdout.write(`turnpike is running at ${config.prefix} (pid ${pid})\n`)
  return 0
}
