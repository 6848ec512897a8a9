/**
 * Turns flat form fields (`application/x-www-form-urlencoded`, `multipart/form-data`, query
 * strings) into nested input the way Kong's Admin API does:
 *
 * - `paths=/a&paths=/b`, `paths[]=/a&paths[]=/b` and `paths[1]=/a&paths[2]=/b` → arrays;
 * - `service.id=…`, `headers.x-region=north`, `config.limits[1].minute=5` → nested objects.
 *
 * Values stay strings here; `coerceFormInput` types them by the schema afterwards.
 *
 * @module
 */

/** One path step: an object key, a 1-based array index, or "append" (`[]`). */
type Step = string | number | typeof APPEND
const APPEND = Symbol('append')

const ARRAY_ACCESS = /^(.+)\[(\d*)\]$/s
const DOTTED = /^(.+)\.(.+)$/s

function keyToPath(key: string, out: Step[] = []): Step[] {
  const array = ARRAY_ACCESS.exec(key)
  if (array !== null) {
    keyToPath(array[1] ?? '', out)
    out.push(array[2] === '' || array[2] === undefined ? APPEND : Number(array[2]))
    return out
  }
  const dotted = DOTTED.exec(key)
  if (dotted !== null) {
    keyToPath(dotted[1] ?? '', out)
    keyToPath(dotted[2] ?? '', out)
    return out
  }
  out.push(key)
  return out
}

type Container = Record<string, unknown> | unknown[]

function isContainer(value: unknown): value is Container {
  return typeof value === 'object' && value !== null
}

function childFor(step: Step): Container {
  return typeof step === 'string' ? {} : []
}

function getChild(node: Container, step: Step): unknown {
  if (Array.isArray(node)) {
    if (step === APPEND) return undefined
    return typeof step === 'number' ? node[step - 1] : undefined
  }
  return typeof step === 'string' ? node[step] : undefined
}

function setChild(node: Container, step: Step, value: unknown): void {
  if (Array.isArray(node)) {
    if (step === APPEND) node.push(value)
    else if (typeof step === 'number' && step >= 1) node[step - 1] = value
    return
  }
  if (typeof step !== 'string') return
  const previous = node[step]
  // A repeated plain key (`paths=/a&paths=/b`) accumulates into an array.
  if (previous !== undefined && !isContainer(previous)) node[step] = [previous, value]
  else if (Array.isArray(previous) && !isContainer(value)) previous.push(value)
  else node[step] = value
}

/** Puts a new container at `step`, replacing any plain value there. */
function placeChild(node: Container, step: Step, child: Container): void {
  if (!Array.isArray(node)) {
    if (typeof step === 'string') node[step] = child
  } else if (step === APPEND) node.push(child)
  else if (typeof step === 'number' && step >= 1) node[step - 1] = child
}

/** Removes holes left by sparse `x[3]=` indices, recursively. */
function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => v !== undefined).map(compact)
  if (isContainer(value)) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = compact(v)
    return out
  }
  return value
}

/**
 * Builds nested input from `[key, value]` pairs in order.
 *
 * @example decodeFormPairs([['paths[]', '/a'], ['service.id', 'x']]) // { paths: ['/a'], service: { id: 'x' } }
 */
export function decodeFormPairs(pairs: Iterable<readonly [string, string]>): Record<string, unknown> {
  const root: Record<string, unknown> = {}
  for (const [key, value] of pairs) {
    const path = keyToPath(key)
    let node: Container = root
    for (let i = 0; i < path.length - 1; i++) {
      const step = path[i] as Step
      const next = path[i + 1] as Step
      const existing = getChild(node, step)
      let child: Container
      if (isContainer(existing)) child = existing
      else {
        child = childFor(next)
        placeChild(node, step, child)
      }
      node = child
    }
    setChild(node, path[path.length - 1] as Step, value)
  }
  return compact(root) as Record<string, unknown>
}
