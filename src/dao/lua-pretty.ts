/**
 * Renders values the way Kong's error messages print them (Penlight's `pretty.write` with no
 * indentation): `{name="x"}`, `{id="…"}`, `{consumer=null,name="key-auth"}`. Kong clients
 * and tests match these messages verbatim, so the format matters.
 *
 * @module
 */

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Formats a value as Kong prints it in DAO error messages. Object keys are sorted so the
 * output is deterministic.
 *
 * @example luaPretty({ name: 'x' }) // '{name="x"}'
 */
export function luaPretty(value: unknown): string {
  if (value === null || value === undefined) return 'null'
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (Array.isArray(value)) return `{${value.map(luaPretty).join(',')}}`
  if (typeof value === 'object') {
    const parts = Object.keys(value)
      .sort()
      .map((key) => {
        const name = IDENTIFIER.test(key) ? key : `[${JSON.stringify(key)}]`
        return `${name}=${luaPretty((value as Record<string, unknown>)[key])}`
      })
    return `{${parts.join(',')}}`
  }
  return JSON.stringify(String(value))
}
