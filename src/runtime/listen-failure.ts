/** The start command's words for a listener that could not be opened (primary and workers). */
import type { ListenAddress } from '../config/index.js'

export function listenFailure(err: NodeJS.ErrnoException, l: ListenAddress, setting: string): string {
  const why =
    err.code === 'EADDRINUSE'
      ? 'address already in use (is another gateway running?)'
      : err.code === 'EACCES'
        ? 'permission denied (ports below 1024 need privileges)'
        : err.message
  return `could not listen on ${setting} ${l.host}:${l.port}: ${why}`
}
