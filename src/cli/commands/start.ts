/** `turnpike start`: runs the gateway in the foreground until SIGTERM/SIGINT. */
import type { GatewayConfig } from '../../config/index.js'
import { startGateway } from '../../runtime/primary.js'
import { storeLocation } from '../../runtime/store-options.js'
import { PRODUCT, VERSION } from '../../version.js'

function urls(list: GatewayConfig['proxy_listen']): string {
  return list.map((l) => `${l.ssl ? 'https' : 'http'}://${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`).join(', ') || 'off'
}

export async function startCommand(config: GatewayConfig): Promise<number> {
  const gw = await startGateway(config)
  process.stdout.write(
    `${PRODUCT} ${VERSION} started (pid ${process.pid}, ${config.worker_processes} workers, database ${config.database}${config.database === 'off' ? '' : ` at ${storeLocation(config)}`})\n` +
      `  proxy:  ${urls(config.proxy_listen)}\n  admin:  ${urls(config.admin_listen)}\n  status: ${urls(config.status_listen)}\n  logs:   ${config.proxy_error_log}\n`,
  )
  await gw.stopped
  process.stdout.write(`${PRODUCT} stopped\n`)
  return 0
}
