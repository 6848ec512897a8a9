/** `turnpike health`: is the gateway in this prefix running, and does its status endpoint answer? */
import { request } from 'undici'
import type { GatewayConfig } from '../../config/types.js'
import { runningPid } from '../../runtime/primary.js'

export async function healthCommand(config: GatewayConfig): Promise<number> {
  const pid = runningPid(config.prefix)
  if (pid === null) {
    process.stderr.write(`Error: turnpike is not running in ${config.prefix}\n`)
    return 1
  }
  const admin = config.admin_listen.find((l) => !l.ssl)
  if (admin !== undefined) {
    const host = admin.host === '0.0.0.0' ? '127.0.0.1' : admin.host === '::' ? '::1' : admin.host
    try {
      const res = await request(`http://${host.includes(':') ? `[${host}]` : host}:${admin.port}/status`, { headersTimeout: 5000, bodyTimeout: 5000 })
      const body = (await res.body.json()) as { database?: { reachable?: boolean } }
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`)
      process.stdout.write(`turnpike is healthy at ${config.prefix} (pid ${pid}, database reachable: ${String(body.database?.reachable ?? 'n/a')})\n`)
      return 0
    } catch (err) {
      process.stderr.write(`Error: turnpike (pid ${pid}) is running but its Admin API at ${host}:${admin.port} does not answer: ${(err as Error).message}\n`)
      return 1
    }
  }
  process.stdout.write(`turnpike is running at ${config.prefix} (pid ${pid})\n`)
  return 0
}
