/**
 * A field's default where a row or plugin configuration holds an explicit `null`.
 *
 * Defaults are filled in when a field is absent (on every write: Admin API, declarative load), but
 * an explicit JSON `null` is stored as `null`, as in Kong, so the inferred type of a field that is
 * not `required` stays `T | null` even when it has a default. Code that needs a value takes the
 * schema's default then (Kong's runloop does the same: `service.retries or 5`), from the schema
 * rather than a literal written again.
 *
 * @module
 */

/** `value`, or `field.default` when `value` is null. */
export function orDefault<T>(value: T | null, field: { readonly default: T }): T {
  return value ?? field.default
}
