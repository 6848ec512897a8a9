/** `turnpike health`: is the gateway in this prefix running, and does its status endpoint answer? */
import type { GatewayConfig } from '../../config/index.js'
import { originOf, outbound } from '../../http/outbound.js'
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
      const res = await outbound.request({
        method: 'GET',
        origin: originOf('http', host, admin.port),
        path: '/status',
        connectTimeoutMs: 5000,
        readTimeoutMs: 5000,
      })
      if (!res.ok) throw new Error(res.failure.message)
      const body = JSON.parse(res.body.toString('utf8')) as { database?: { reachable?: boolean } }
      if (res.status !== 200) throw new Error(`status ${res.status}`)
      process.stdout.write(
        `turnpike is healthy at ${config.prefix} (pid ${pid}, database reachable: ${String(body.database?.reachable ?? 'n/a')})\n`,
      )
      return 0
    } catch (err) {
      process.stderr.write(
        `Error: turnpike (pid ${pid}) is running but its Admin API at ${host}:${admin.port} does not answer: ${(err as Error).message}\n`,
      )
      return 1
    }
  }
  process.stdout.write(`turnpike is running at ${config.prefix} (pid ${pid})\n`)
  return 0
}
