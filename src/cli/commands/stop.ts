/** `turnpike stop`: SIGTERM to the primary recorded in the prefix, then wait for it to exit. */
import type { GatewayConfig } from '../../config/index.js'
import { isAlive } from '../../runtime/pid-file.js'
import { runningPid } from '../../runtime/primary.js'

export async function stopCommand(config: GatewayConfig): Promise<number> {
  const pid = runningPid(config.prefix)
  if (pid === null) {
    process.stderr.write(`Error: turnpike is not running in ${config.prefix} (no live pid in ${config.prefix}/pids/turnpike.pid)\n`)
    return 1
  }
  process.kill(pid, 'SIGTERM')
  const deadline = Date.now() + (config.shutdown_timeout + 10) * 1000
  while (Date.now() < deadline) {
    // A primary whose parent does not reap it stays a zombie: exited all the same.
    if (!isAlive(pid)) {
      process.stdout.write(`turnpike stopped (pid ${pid})\n`)
      return 0
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  process.stderr.write(`Error: turnpike (pid ${pid}) did not stop within ${config.shutdown_timeout + 10}s\n`)
  return 1
}
