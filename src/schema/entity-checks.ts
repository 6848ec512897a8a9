/**
 * Entity checks with Kong's run rules (`run_entity_check`): which fields a check needs, whether
 * it runs when those fields are missing or already invalid, and where its messages go.
 *
 * @module
 */
import type { CheckErrors, EntityCheck, FieldErrors } from './types.js'
import { getPath, isNonEmpty, overlayConstraint, setOwn, setPath } from './field-spec.js'
import { MSG, entityCheckMessage as M, quotedList } from './messages.js'
import type { SchemaLike } from './schema-like.js'
import { type ValidateContext, isVaultReference, validateField } from './validate-field.js'

interface CheckRun {
  readonly fields: readonly string[]
  readonly required: ReadonlySet<string>
  readonly runWithMissing: boolean
  readonly runWithInvalid: boolean
  /** Returns entity-level messages; may also write field errors. */
  readonly fn: (input: Record<string, unknown>, errors: FieldErrors) => string[]
}

function plan(check: EntityCheck, schema: SchemaLike, ctx: ValidateContext): CheckRun {
  if ('at_least_one_of' in check) {
    const names = check.at_least_one_of
    return {
      fields: names,
      required: new Set(names),
      runWithMissing: true,
      runWithInvalid: true,
      fn: (input) => (names.some((n) => isNonEmpty(getPath(input, n))) ? [] : [M.atLeastOneOf(quotedList(names), ctx.updating)]),
    }
  }
  if ('only_one_of' in check) {
    const names = check.only_one_of
    return {
      fields: names,
      required: new Set(names),
      runWithMissing: false,
      runWithInvalid: true,
      fn: (input) => (names.filter((n) => isNonEmpty(getPath(input, n))).length === 1 ? [] : [M.onlyOneOf(quotedList(names))]),
    }
  }
  if ('mutually_required' in check) {
    const names = check.mutually_required
    return {
      fields: names,
      required: new Set(names),
      runWithMissing: true,
      runWithInvalid: false,
      fn: (input) => {
        const n = names.filter((f) => isNonEmpty(getPath(input, f))).length
        return n === 0 || n === names.length ? [] : [M.mutuallyRequired(quotedList(names))]
      },
    }
  }
  if ('mutually_exclusive' in check) {
    const names = check.mutually_exclusive
    return {
      fields: names,
      required: new Set(names),
      runWithMissing: true,
      runWithInvalid: false,
      fn: (input) => (names.filter((f) => isNonEmpty(getPath(input, f))).length <= 1 ? [] : [M.mutuallyExclusive(quotedList(names))]),
    }
  }
  if ('conditional' in check) {
    const c = check.conditional
    return {
      fields: [c.if_field, c.then_field],
      required: new Set([c.if_field]),
      runWithMissing: false,
      runWithInvalid: true,
      fn: (input, errors) => {
        const ifValue = getPath(input, c.if_field)
        const thenValue = getPath(input, c.then_field) ?? null
        const ifSpec = overlayConstraint(fieldAt(schema, c.if_field), c.if_match)
        if (validateField(ifSpec, ifValue, ctx) !== undefined) return []
        if (c.then_match.required === true && thenValue === null) {
          setPath(errors, c.then_field, MSG.REQUIRED)
          return [M.conditional(c.if_field)]
        }
        const thenSpec = overlayConstraint(fieldAt(schema, c.then_field), c.then_match)
        const err = validateField(thenSpec, thenValue, ctx)
        if (err === undefined) return []
        setPath(errors, c.then_field, err)
        return [M.conditional(c.if_field)]
      },
    }
  }
  const c = check.custom_entity_check
  return {
    fields: c.field_sources,
    required: new Set(c.field_sources),
    runWithMissing: false,
    runWithInvalid: false,
    fn: (input, errors) => mergeCheckErrors(errors, c.fn(input)),
  }
}

/** Field errors from a custom check overwrite; `@entity` messages are returned to be appended. */
function mergeCheckErrors(errors: FieldErrors, result: CheckErrors | undefined): string[] {
  if (!result) return []
  const entity: string[] = []
  for (const [k, v] of Object.entries(result)) {
    if (k === '@entity') entity.push(...(Array.isArray(v) ? v : [v]))
    else setOwn(errors, k, v)
  }
  return entity
}

function fieldAt(schema: SchemaLike, path: string): import('./types.js').Field | undefined {
  const [head, ...rest] = path.split('.')
  const field = head === undefined ? undefined : schema.fields[head]
  if (rest.length === 0 || !field) return field
  return field.type === 'record' ? fieldAt(field, rest.join('.')) : undefined
}

/** A referenceable string field holding a vault reference. */
function isReferenceIn(field: import('./types.js').Field | undefined, value: unknown): boolean {
  return field?.type === 'string' && field.referenceable === true && typeof value === 'string' && isVaultReference(value)
}

/**
 * Runs `checks` against `input`, accumulating into `errors` (entity messages under `@entity`).
 * `input` is handed whole to custom checks; `full` is false for updates.
 */
export function runEntityChecks(
  schema: SchemaLike,
  checks: readonly EntityCheck[] | undefined,
  input: Record<string, unknown>,
  full: boolean,
  errors: FieldErrors,
  ctx: ValidateContext,
): void {
  for (const check of checks ?? []) {
    const run = plan(check, schema, ctx)
    const missing: string[] = []
    let allAbsent = true
    let allValid = true
    let holdsReference = false
    for (const name of run.fields) {
      const value = getPath(input, name)
      if (isReferenceIn(fieldAt(schema, name), value)) holdsReference = true
      if (value === undefined) {
        if (!run.runWithMissing && run.required.has(name)) missing.push(name)
      } else allAbsent = false
      if (errors[name] !== undefined) allValid = false
    }
    // Kong: a check does not run when one of its fields holds a vault reference.
    if (holdsReference) continue
    if (!allValid && !run.runWithInvalid) continue
    if (allAbsent && !(run.runWithMissing && full)) continue
    if (missing.length > 0) {
      for (const name of missing) setPath(errors, name, M.requiredForCheck(ctx.updating))
      continue
    }
    const messages = run.fn(input, errors)
    if (messages.length > 0) {
      const list = (errors['@entity'] ??= []) as string[]
      list.push(...messages)
    }
  }
}
