/**
 * The folder rules of docs/architecture.md, checked on the TypeScript sources: the imports between
 * top-level `src/` folders form no cycle, of two folders or longer (type imports count), a folder
 * with an `index.ts` is imported
 * through it from other folders, and only `src/http/` imports node:http, node:https, node:http2 or
 * undici.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root (this file runs compiled, from build/test/unit/architecture/). */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..')
const SRC = join(ROOT, 'src')

const HTTP_MODULES = new Set(['node:http', 'node:https', 'node:http2', 'http', 'https', 'http2', 'undici'])

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) sourceFiles(p, out)
    else if (e.name.endsWith('.ts')) out.push(p)
  }
  return out
}

/** Every module specifier a file names: `import … from`, `export … from`, `import '…'`, `import('…')`. */
function specifiers(text: string): string[] {
  const out: string[] = []
  for (const m of text.matchAll(/\b(?:from|import)\s*\(?\s*['"]([^'"\n]+)['"]/g)) out.push(m[1] as string)
  return out
}

/** The top-level folder under src/ of a path relative to the repository, or null for src/*.ts. */
function folderOf(repoPath: string): string | null {
  const parts = repoPath.split('/')
  return parts[0] === 'src' && parts.length > 2 ? (parts[1] as string) : null
}

const files = sourceFiles(SRC).map((abs) => ({ abs, path: relative(ROOT, abs).split(sep).join('/') }))

/** `from->to` → the files of `from` that import `to`, for every pair of top-level folders. */
function folderEdges(): Map<string, string[]> {
  const edges = new Map<string, string[]>()
  for (const f of files) {
    const from = folderOf(f.path)
    if (from === null) continue
    for (const spec of specifiers(readFileSync(f.abs, 'utf8'))) {
      if (!spec.startsWith('.')) continue
      const target = relative(ROOT, normalize(join(dirname(f.abs), spec)))
        .split(sep)
        .join('/')
      const to = folderOf(target)
      if (to === null || to === from) continue
      const key = `${from}->${to}`
      const users = edges.get(key) ?? []
      if (!users.includes(f.path)) users.push(f.path)
      edges.set(key, users)
    }
  }
  return edges
}

/**
 * A cycle in the folder graph (`[a, b, …, a]`), or null when there is none: a depth-first walk in
 * name order, so the cycle reported is the same from run to run.
 */
function findCycle(edges: ReadonlyMap<string, readonly string[]>): string[] | null {
  const next = new Map<string, string[]>()
  for (const key of edges.keys()) {
    const [a, b] = key.split('->') as [string, string]
    next.set(a, [...(next.get(a) ?? []), b])
    if (!next.has(b)) next.set(b, [])
  }
  const done = new Set<string>()
  const path: string[] = []
  const onPath = new Set<string>()
  const visit = (node: string): string[] | null => {
    if (onPath.has(node)) return [...path.slice(path.indexOf(node)), node]
    if (done.has(node)) return null
    path.push(node)
    onPath.add(node)
    for (const to of (next.get(node) ?? []).sort()) {
      const cycle = visit(to)
      if (cycle !== null) return cycle
    }
    path.pop()
    onPath.delete(node)
    done.add(node)
    return null
  }
  for (const node of [...next.keys()].sort()) {
    const cycle = visit(node)
    if (cycle !== null) return cycle
  }
  return null
}

test('the cycle finder finds a cycle of three folders and none in a chain', () => {
  const chain = new Map([
    ['a->b', []],
    ['b->c', []],
    ['a->c', []],
  ])
  assert.equal(findCycle(chain), null)
  const loop = new Map([
    ['a->b', []],
    ['b->c', []],
    ['c->a', []],
    ['c->d', []],
  ])
  assert.deepEqual(findCycle(loop), ['a', 'b', 'c', 'a'])
})

test('the folder graph has no cycle of any length (type imports included)', () => {
  const edges = folderEdges()
  assert.ok(edges.has('proxy->router') && edges.has('runtime->proxy'), 'the walk found the folder imports')
  const cycle = findCycle(edges)
  const described =
    cycle === null
      ? []
      : cycle.slice(1).map((to, i) => `${cycle[i] as string} -> ${to}: ${(edges.get(`${cycle[i] as string}->${to}`) ?? []).join(', ')}`)
  assert.deepEqual(described, [], `the folder imports go round in a cycle ${cycle?.join(' -> ') ?? ''}:\n${described.join('\n')}`)
})

test('no two top-level src/ folders import each other', () => {
  const edges = folderEdges()
  const mutual: string[] = []
  for (const [key, users] of edges) {
    const [a, b] = key.split('->') as [string, string]
    if (a >= b) continue
    const back = edges.get(`${b}->${a}`)
    if (back === undefined) continue
    mutual.push(`${a}<->${b}: ${[...new Set(users)].join(', ')} | ${[...new Set(back)].join(', ')}`)
  }
  assert.deepEqual(mutual, [], `folders that import each other:\n${mutual.join('\n')}`)
})

test('a folder with an index.ts is imported through it from other folders (no deep imports)', () => {
  const faced = new Set(
    readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(join(SRC, e.name, 'index.ts')))
      .map((e) => e.name),
  )
  assert.ok(faced.has('schema') && faced.has('store'), 'the walk found the folders with a face')
  const deep: string[] = []
  for (const f of files) {
    const from = folderOf(f.path)
    for (const spec of specifiers(readFileSync(f.abs, 'utf8'))) {
      if (!spec.startsWith('.')) continue
      const target = relative(ROOT, normalize(join(dirname(f.abs), spec)))
        .split(sep)
        .join('/')
      const to = folderOf(target)
      if (to === null || to === from || !faced.has(to)) continue
      if (target !== `src/${to}/index.js`) deep.push(`${f.path} ${spec}`)
    }
  }
  assert.deepEqual(deep, [])
})

test('only src/http/ imports node:http, node:https, node:http2 or undici', () => {
  const found: string[] = []
  for (const f of files) {
    if (f.path.startsWith('src/http/')) continue
    for (const spec of specifiers(readFileSync(f.abs, 'utf8'))) {
      if (HTTP_MODULES.has(spec)) found.push(`${f.path} ${spec}`)
    }
  }
  assert.deepEqual(found, [])
})

test('a worker loads neither the Admin API nor a database driver (static imports of the compiled worker)', () => {
  const start = join(ROOT, 'build', 'src', 'runtime', 'worker.js')
  const seen = new Set<string>()
  const packages = new Set<string>()
  const stack = [start]
  for (let f = stack.pop(); f !== undefined; f = stack.pop()) {
    if (seen.has(f)) continue
    seen.add(f)
    const text = readFileSync(f, 'utf8')
    for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm)) {
      const spec = (m[1] ?? m[2]) as string
      if (spec.startsWith('.')) stack.push(join(dirname(f), spec))
      else packages.add(spec)
    }
  }
  const loaded = [...seen].map((f) =>
    relative(join(ROOT, 'build', 'src'), f)
      .split(sep)
      .join('/'),
  )
  assert.deepEqual(
    loaded.filter((f) => f.startsWith('admin/') || f.startsWith('store/') || f.startsWith('dao/')),
    [],
  )
  assert.ok(!packages.has('better-sqlite3'), 'better-sqlite3 is loaded by a worker')
  assert.ok(!packages.has('pg'), 'pg (the PostgreSQL driver) is loaded by a worker')
  assert.ok(loaded.includes('proxy/runloop.js'), 'the walk reached the runloop')
})
