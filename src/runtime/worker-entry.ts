/** Entry point of a forked proxy worker: reads the configuration the primary resolved, then runs. */
// First: V8's regexp flags must be set before any other module creates a RegExp.
import '../regex/engine-flags.js'
import type { GatewayConfig } from '../config/index.js'
import { WORKER_CONFIG_ENV } from './messages.js'
import { runWorker } from './worker.js'

const raw = process.env[WORKER_CONFIG_ENV]
if (raw === undefined) {
  process.stderr.write('turnpike: worker-entry is started by the gateway, not by hand\n')
  process.exit(1)
}
runWorker(JSON.parse(raw) as GatewayConfig).catch((err: unknown) => {
  process.stderr.write(`turnpike worker failed to start: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
