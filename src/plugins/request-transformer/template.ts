/**
 * Templates of the `request-transformer` plugin: `$(expression)` inside a value is replaced by the
 * expression's value, as Kong does with Penlight templates evaluated in a sandbox. No code is ever
 * evaluated here: expressions are parsed into a small tree and interpreted over a read-only
 * environment. What Kong documents is supported:
 *
 * - lookups: `headers.name`, `headers["x-name"]`, `query_params.p`, `query_params["p"]`,
 *   `uri_captures.name`, `uri_captures[1]`, `shared.key` (`kong.ctx.shared`), nested lookups;
 *   header names are matched case-insensitively and `_` matches `-`, as nginx does;
 * - literals: `"text"`, `'text'` (so `$('$(literal)')` writes a literal `$(literal)`), numbers,
 *   `true`, `false`, `nil`;
 * - `or` / `and` (Lua semantics: `$(headers.a or query_params.a or "default")`), `not`, `==`,
 *   `~=`, parentheses and `type(x)` (repeated headers are tables: `type(headers.x) == "table"`).
 *
 * A value that is nil or false renders as an empty string (Penlight's `(expr or '')`); a table or
 * `true` cannot be rendered and fails the request, as in Kong.
 *
 * @module
 */

/** Values an expression may produce (Lua types: nil, boolean, number, string, table). */
export type TemplateValue = undefined | boolean | number | string | readonly unknown[] | Readonly<Record<string, unknown>>

/** The environment: lazily computed tables, by name. */
export type TemplateEnv = Readonly<Record<string, () => unknown>>

type Node =
  | { readonly k: 'lit'; readonly v: TemplateValue }
  | { readonly k: 'var'; readonly name: string }
  | { readonly k: 'index'; readonly obj: Node; readonly key: Node }
  | { readonly k: 'or' | 'and' | 'eq' | 'ne'; readonly a: Node; readonly b: Node }
  | { readonly k: 'not'; readonly a: Node }
  | { readonly k: 'type'; readonly a: Node }

type Token = { readonly t: 'str' | 'num' | 'name' | 'op'; readonly v: string }

function tokenize(src: string): Token[] {
  const out: Token[] = []
  let i = 0
  while (i < src.length) {
    const c = src[i] as string
    if (/\s/.test(c)) {
      i++
      continue
    }
    if (c === '"' || c === "'") {
      let j = i + 1
      let s = ''
      for (; j < src.length && src[j] !== c; j++) {
        if (src[j] === '\\' && j + 1 < src.length) {
          const n = src[++j] as string
          s += n === 'n' ? '\n' : n === 't' ? '\t' : n
        } else s += src[j]
      }
      if (j >= src.length) throw new Error('unfinished string')
      out.push({ t: 'str', v: s })
      i = j + 1
      continue
    }
    const num = /^\d+(?:\.\d+)?/.exec(src.slice(i))
    if (num !== null) {
      out.push({ t: 'num', v: num[0] })
      i += num[0].length
      continue
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))
    if (name !== null) {
      out.push({ t: 'name', v: name[0] })
      i += name[0].length
      continue
    }
    const op = /^(?:==|~=|[.[\]()])/.exec(src.slice(i))
    if (op === null) throw new Error(`unexpected symbol near '${c}'`)
    out.push({ t: 'op', v: op[0] })
    i += op[0].length
  }
  return out
}

/** Parses one expression (the inside of `$(…)`). */
export function parseExpression(src: string): Node {
  const tokens = tokenize(src)
  let p = 0
  const peek = (): Token | undefined => tokens[p]
  const isOp = (v: string): boolean => peek()?.t === 'op' && peek()?.v === v
  const isWord = (v: string): boolean => peek()?.t === 'name' && peek()?.v === v
  const expect = (v: string): void => {
    if (!isOp(v)) throw new Error(`'${v}' expected${peek() === undefined ? ' near <eof>' : ` near '${peek()?.v}'`}`)
    p++
  }
  const orExpr = (): Node => {
    let a = andExpr()
    while (isWord('or')) {
      p++
      a = { k: 'or', a, b: andExpr() }
    }
    return a
  }
  const andExpr = (): Node => {
    let a = cmpExpr()
    while (isWord('and')) {
      p++
      a = { k: 'and', a, b: cmpExpr() }
    }
    return a
  }
  const cmpExpr = (): Node => {
    const a = unary()
    if (isOp('==') || isOp('~=')) {
      const k = peek()?.v === '==' ? 'eq' : 'ne'
      p++
      return { k, a, b: unary() }
    }
    return a
  }
  const unary = (): Node => {
    if (isWord('not')) {
      p++
      return { k: 'not', a: unary() }
    }
    return postfix()
  }
  const postfix = (): Node => {
    let node = primary()
    for (;;) {
      if (isOp('.')) {
        p++
        const n = peek()
        if (n?.t !== 'name') throw new Error(`<name> expected near '${n?.v ?? '<eof>'}'`)
        p++
        node = { k: 'index', obj: node, key: { k: 'lit', v: n.v } }
      } else if (isOp('[')) {
        p++
        const key = orExpr()
        expect(']')
        node = { k: 'index', obj: node, key }
      } else return node
    }
  }
  const primary = (): Node => {
    const tok = peek()
    if (tok === undefined) throw new Error('unexpected symbol near <eof>')
    p++
    if (tok.t === 'str') return { k: 'lit', v: tok.v }
    if (tok.t === 'num') return { k: 'lit', v: Number(tok.v) }
    if (tok.t === 'op' && tok.v === '(') {
      const e = orExpr()
      expect(')')
      return e
    }
    if (tok.t === 'name') {
      if (tok.v === 'nil') return { k: 'lit', v: undefined }
      if (tok.v === 'true') return { k: 'lit', v: true }
      if (tok.v === 'false') return { k: 'lit', v: false }
      if (tok.v === 'type' && isOp('(')) {
        p++
        const a = orExpr()
        expect(')')
        return { k: 'type', a }
      }
      if (tok.v === 'and' || tok.v === 'or' || tok.v === 'not') throw new Error(`unexpected symbol near '${tok.v}'`)
      return { k: 'var', name: tok.v }
    }
    throw new Error(`unexpected symbol near '${tok.v}'`)
  }
  const node = orExpr()
  if (p < tokens.length) throw new Error(`'<eof>' expected near '${tokens[p]?.v}'`)
  return node
}

const truthy = (v: unknown): boolean => v !== undefined && v !== null && v !== false

function luaType(v: unknown): string {
  if (v === undefined || v === null) return 'nil'
  if (typeof v === 'object') return 'table'
  return typeof v
}

function lookup(obj: unknown, key: unknown, headersTable: boolean): TemplateValue {
  if (obj === null || typeof obj !== 'object') {
    if (obj === undefined || obj === null) throw new Error(`attempt to index a nil value`)
    return undefined
  }
  if (Array.isArray(obj)) {
    return typeof key === 'number' ? (obj[key - 1] as TemplateValue) : undefined
  }
  const rec = obj as Record<string, unknown>
  const k = String(key)
  if (Object.prototype.hasOwnProperty.call(rec, k)) return rec[k] as TemplateValue
  if (headersTable) {
    // nginx's header table: case-insensitive, `_` stands for `-`.
    const alt = k.toLowerCase().replace(/_/g, '-')
    if (Object.prototype.hasOwnProperty.call(rec, alt)) return rec[alt] as TemplateValue
  }
  return undefined
}

function evaluate(node: Node, env: TemplateEnv): TemplateValue {
  switch (node.k) {
    case 'lit':
      return node.v
    case 'var': {
      const get = Object.prototype.hasOwnProperty.call(env, node.name) ? env[node.name] : undefined
      return get === undefined ? undefined : (get() as TemplateValue)
    }
    case 'index':
      return lookup(evaluate(node.obj, env), evaluate(node.key, env), node.obj.k === 'var' && node.obj.name === 'headers')
    case 'or': {
      const a = evaluate(node.a, env)
      return truthy(a) ? a : evaluate(node.b, env)
    }
    case 'and': {
      const a = evaluate(node.a, env)
      return truthy(a) ? evaluate(node.b, env) : a
    }
    case 'eq':
      return evaluate(node.a, env) === evaluate(node.b, env)
    case 'ne':
      return evaluate(node.a, env) !== evaluate(node.b, env)
    case 'not':
      return !truthy(evaluate(node.a, env))
    case 'type':
      return luaType(evaluate(node.a, env))
  }
}

/** A compiled template: literal pieces and expressions. */
export type Template = readonly (string | Node)[]

/**
 * Compiles a template. `$(` starts an expression that ends at the matching `)` (Lua's `%b()`);
 * an unbalanced `$(` is literal text. Throws on an expression that does not parse.
 */
export function compileTemplate(src: string): Template {
  const parts: (string | Node)[] = []
  let text = ''
  let i = 0
  while (i < src.length) {
    if (src[i] === '$' && src[i + 1] === '(') {
      let depth = 0
      let j = i + 1
      for (; j < src.length; j++) {
        if (src[j] === '(') depth++
        else if (src[j] === ')' && --depth === 0) break
      }
      if (j < src.length) {
        if (text !== '') parts.push(text)
        text = ''
        parts.push(parseExpression(src.slice(i + 2, j)))
        i = j + 1
        continue
      }
    }
    text += src[i]
    i++
  }
  if (text !== '') parts.push(text)
  return parts
}

/** Whether a value holds a template expression at all. */
export function hasTemplate(src: string): boolean {
  return /\$\([\s\S]*\)/.test(src)
}

/** Renders a compiled template over `env`. Throws when a value cannot be rendered. */
export function renderTemplate(template: Template, env: TemplateEnv): string {
  let out = ''
  for (const part of template) {
    if (typeof part === 'string') {
      out += part
      continue
    }
    const v = evaluate(part, env)
    if (v === undefined || v === false) continue
    if (typeof v === 'string') out += v
    else if (typeof v === 'number') out += Number.isInteger(v) ? String(v) : String(v)
    else throw new Error(`attempt to concatenate a ${luaType(v)} value`)
  }
  return out
}

/** Compiles and renders in one go (tests, one-off values). */
export function render(src: string, env: TemplateEnv): string {
  return renderTemplate(compileTemplate(src), env)
}
