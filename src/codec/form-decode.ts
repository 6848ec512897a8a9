/**
 * Turns flat form fields (`application/x-www-form-urlencoded`, `multipart/form-data`, query
 * strings) into input, two ways:
 *
 * - {@link decodeFormPairs}, nested, as Kong's Admin API does:
 *   `paths=/a&paths=/b`, `paths[]=/a&paths[]=/b` and `paths[1]=/a&paths[2]=/b` → arrays;
 *   `service.id=…`, `headers.x-region=north`, `config.limits[1].minute=5` → nested objects.
 *   Values stay strings here; `coerceFormInput` types them by the schema afterwards.
 * - {@link decodeFlatPairs}, flat, as the PDK's `kong.request.get_body` (nginx's
 *   `get_post_args`): one key per name, a repeated name becomes an array.
 *
 * Every input here is hostile:
 *
 * - objects are made with a null prototype, so `__proto__`, `constructor` and `prototype` are
 *   ordinary own keys (the schema then reports them as unknown fields, as Kong does) and never
 *   reach `Object.prototype`;
 * - an array index costs the same whatever its size: indices are kept in a Map and sorted once
 *   (`x[4294967294]=1` is one entry, not four billion slots); holes are dropped, as before;
 * - a key is split in one pass, without regular expressions or recursion, and a key with more
 *   than {@link FORM_MAX_KEY_DEPTH} parts keeps the rest as one literal name (no schema is that
 *   deep: the schema answers `unknown field` as Kong's does for such keys);
 * - the caller caps the number of fields ({@link countFields}).
 *
 * @module
 */

/** Kong's Admin API reads at most 1000 form or query arguments (`kong/api/arguments.lua`). */
export const ADMIN_MAX_ARGS = 1000

/** Deeper keys keep their remaining parts as one literal name (cjson's nesting limit, 1000). */
export const FORM_MAX_KEY_DEPTH = 1000

/** One path step: an object key, a 1-based array index, or "append" (`[]`). */
type Step = string | number | typeof APPEND
const APPEND = Symbol('append')

/** An array while it is being built: values by 0-based index, and where `[]` appends next. */
class SparseArray {
  readonly items = new Map<number, unknown>()
  next = 0
  set(index: number, value: unknown): void {
    this.items.set(index, value)
    if (index >= this.next) this.next = index + 1
  }
  push(value: unknown): void {
    this.set(this.next, value)
  }
}

type Obj = Record<string, unknown>
type Container = Obj | SparseArray

function isDigits(key: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = key.charCodeAt(i)
    if (c < 48 || c > 57) return false
  }
  return true
}

/**
 * Splits a key into steps, from the end: a trailing `[digits]` or `[]` (with something before
 * it) is an array step, else the last dot with something on both sides separates a name.
 * Linear in the key's length. Beyond {@link FORM_MAX_KEY_DEPTH} steps, the rest of the key is
 * one literal name.
 */
export function keyToPath(key: string): Step[] {
  const reversed: Step[] = []
  /** Where each step's text starts in the key, in the same order. */
  const starts: number[] = []
  let end = key.length
  for (;;) {
    if (end >= 3 && key.charCodeAt(end - 1) === 93 /* ] */) {
      // Back over the digits only: a search for any earlier `[` would rescan the key on every
      // step (`a[x].x].x]…` was quadratic).
      let open = end - 2
      while (open >= 1 && isDigits(key, open, open + 1)) open--
      if (open >= 1 && key.charCodeAt(open) === 91 /* [ */) {
        reversed.push(open + 1 === end - 1 ? APPEND : Number(key.slice(open + 1, end - 1)))
        starts.push(open)
        end = open
        continue
      }
    }
    const dot = end >= 2 ? key.lastIndexOf('.', end - 2) : -1
    if (dot >= 1) {
      reversed.push(key.slice(dot + 1, end))
      starts.push(dot + 1)
      end = dot
      continue
    }
    break
  }
  reversed.push(key.slice(0, end))
  starts.push(0)
  const path = reversed.reverse()
  if (path.length <= FORM_MAX_KEY_DEPTH) return path
  const last = FORM_MAX_KEY_DEPTH - 1
  const restStart = starts[starts.length - 1 - last] as number
  path.length = last
  path.push(key.slice(restStart))
  return path
}

function newObject(): Obj {
  return Object.create(null) as Obj
}

function isContainer(value: unknown): value is Container {
  return value instanceof SparseArray || (typeof value === 'object' && value !== null)
}

function getChild(node: Container, step: Step): unknown {
  if (node instanceof SparseArray) return typeof step === 'number' ? node.items.get(step - 1) : undefined
  return typeof step === 'string' ? node[step] : undefined
}

/** Puts a new container at `step`, replacing any plain value there. */
function placeChild(node: Container, step: Step, child: Container): void {
  if (!(node instanceof SparseArray)) {
    if (typeof step === 'string') node[step] = child
  } else if (step === APPEND) node.push(child)
  else if (typeof step === 'number' && step >= 1) node.set(step - 1, child)
}

function setChild(node: Container, step: Step, value: string): void {
  if (node instanceof SparseArray) {
    if (step === APPEND) node.push(value)
    else if (typeof step === 'number' && step >= 1) node.set(step - 1, value)
    return
  }
  if (typeof step !== 'string') return
  const previous = node[step]
  // A repeated plain key (`paths=/a&paths=/b`) accumulates into an array.
  if (previous === undefined || (isContainer(previous) && !(previous instanceof SparseArray))) node[step] = value
  else if (previous instanceof SparseArray) previous.push(value)
  else {
    const list = new SparseArray()
    list.push(previous)
    list.push(value)
    node[step] = list
  }
}

/** Turns the built tree into plain arrays and null-prototype objects, without recursion. */
function finish(root: Obj): Obj {
  const out = newObject()
  const work: { from: Container; to: Obj | unknown[] }[] = [{ from: root, to: out }]
  const convert = (value: unknown): unknown => {
    if (value instanceof SparseArray) {
      const to: unknown[] = []
      work.push({ from: value, to })
      return to
    }
    if (isContainer(value)) {
      const to = newObject()
      work.push({ from: value, to })
      return to
    }
    return value
  }
  for (let job = work.pop(); job !== undefined; job = work.pop()) {
    const { from, to } = job
    if (from instanceof SparseArray) {
      const indices = [...from.items.keys()].sort((a, b) => a - b)
      for (const i of indices) {
        const v = from.items.get(i)
        if (v !== undefined) (to as unknown[]).push(convert(v))
      }
    } else {
      for (const k of Object.keys(from)) (to as Obj)[k] = convert(from[k])
    }
  }
  return out
}

/**
 * Builds nested input from `[key, value]` pairs in order.
 *
 * @example decodeFormPairs([['paths[]', '/a'], ['service.id', 'x']]) // { paths: ['/a'], service: { id: 'x' } }
 */
export function decodeFormPairs(pairs: Iterable<readonly [string, string]>): Record<string, unknown> {
  const root = newObject()
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
        child = typeof next === 'string' ? newObject() : new SparseArray()
        placeChild(node, step, child)
      }
      node = child
    }
    setChild(node, path[path.length - 1] as Step, value)
  }
  return finish(root)
}

/**
 * Flat fields, as nginx's `get_post_args`: a repeated name becomes an array of its values, in
 * order. At most `maxArgs` pairs are read; the rest is ignored, as nginx truncates.
 */
export function decodeFlatPairs(pairs: Iterable<readonly [string, string]>, maxArgs: number): Record<string, string | string[]> {
  const out = Object.create(null) as Record<string, string | string[]>
  let count = 0
  for (const [key, value] of pairs) {
    if (++count > maxArgs) break
    const prev = out[key]
    if (prev === undefined) out[key] = value
    else if (Array.isArray(prev)) prev.push(value)
    else out[key] = [prev, value]
  }
  return out
}

/** How many `&`-separated fields an urlencoded text holds (empty ones are not fields). */
export function countFields(text: string): number {
  let count = 0
  let start = 0
  for (;;) {
    const amp = text.indexOf('&', start)
    const end = amp === -1 ? text.length : amp
    if (end > start) count++
    if (amp === -1) return count
    start = amp + 1
  }
}
