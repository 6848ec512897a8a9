/**
 * Child process for the SQLite durability tests (not a test itself: it does nothing unless
 * TURNPIKE_STORE_CHILD=1, because node's test runner treats every file under test/ as a test).
 *
 * argv: <db path> <prefix> <rows> <counter increments>
 * Inserts `rows` services named `<prefix>-<n>` (every fifth through a transaction), printing
 * each id once its insert has resolved; then increments a shared counter row `increments` times
 * with a read-modify-write transaction. Any failure is printed to stderr with exit code 1.
 */
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js'
import type { Store } from '../../../src/store/types.js'

export const COUNTER_ID = '00000000-0000-4000-8000-ffffffffffff'

/** Builds the id of row `n` of a writer. */
export function childRowId(prefix: number, n: number): string {
  return `00000000-0000-4000-${prefix.toString(16).padStart(4, '0')}-${n.toString(16).padStart(12, '0')}`
}

async function increment(store: Store): Promise<void> {
  await store.transaction(async (tx) => {
    const row = await tx.select('services', COUNTER_ID)
    if (row === null) {
      await tx.insert('services', { id: COUNTER_ID, name: 'counter', count: 1 })
    } else {
      await tx.update('services', { ...row, count: Number(row['count']) + 1 })
    }
  })
}

async function main(argv: readonly string[]): Promise<void> {
  const [path, prefixArg, rowsArg, incArg] = argv
  if (path === undefined) throw new Error('usage: <db path> <prefix> <rows> <increments>')
  const prefix = Number(prefixArg)
  const store = createSqliteStore({ path })
  await store.init([{ name: 'services', unique: ['name'], foreign: [], tags: true }])
  for (let n = 1; n <= Number(rowsArg); n++) {
    const row = { id: childRowId(prefix, n), name: `p${prefix}-${n}`, tags: ['w'] }
    if (n % 5 === 0) await store.transaction((tx) => tx.insert('services', row))
    else await store.insert('services', row)
    process.stdout.write(`${row.id}\n`)
  }
  for (let i = 0; i < Number(incArg ?? 0); i++) await increment(store)
  await store.close()
}

if (process.env['TURNPIKE_STORE_CHILD'] === '1') {
  main(process.argv.slice(2)).catch((err: unknown) => {
    const code = (err as { code?: unknown }).code
    process.stderr.write(`writer failed: ${String(code)} ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  })
}
