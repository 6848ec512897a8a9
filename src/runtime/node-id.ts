/**
 * The node id (`GET /` `node_id`): the `node_id` setting when given (deprecated in Kong 3.9, still
 * honoured), else a UUID kept in the prefix so it survives restarts, as Kong's.
 */
import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export function nodeId(prefix: string, configured: string | null): string {
  if (configured !== null) return configured
  const file = join(prefix, 'node.id')
  if (existsSync(file)) {
    const id = readFileSync(file, 'utf8').trim()
    if (/^[0-9a-f-]{36}$/i.test(id)) return id
  }
  const id = randomUUID()
  mkdirSync(prefix, { recursive: true })
  writeFileSync(file, `${id}\n`)
  return id
}
