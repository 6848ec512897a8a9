/**
 * The schema DSL: one definition per entity drives Admin API validation and errors, the
 * declarative format, storage layout, `/schemas` output and the TypeScript row types.
 *
 * Field names and attribute names follow Kong's schema library (`one_of`, `between`,
 * `len_min`, `starts_with`, `on_delete` …) so that `GET /schemas/{entity}` prints what a Kong
 * user expects, with no translation layer.
 *
 * @module
 */

import type { Row, Store } from '../store/index.js'

/** A validation function for one value: returns an error message, or undefined when valid. */
export type FieldCheck = (value: unknown) => string | undefined

interface FieldBase {
  /** `required: true` — a missing or null value is `required field missing`. */
  readonly required?: boolean
  /** Unique across the entity (enforced by the store). */
  readonly unique?: boolean
  /** Filled in by the DAO (ids, timestamps); never required from clients. */
  readonly auto?: boolean
  readonly description?: string
  /** Custom check run after the built-in ones (Kong's `custom_validator`). */
  readonly custom_validator?: FieldCheck
  /**
   * Kong's `referenceable`: a string value may be a vault reference (`{vault://…}`), accepted as
   * it is when written (no other validator, no entity check runs on it) and resolved when the
   * configuration is compiled for the proxy (src/snapshot/vault-references.ts).
   */
  readonly referenceable?: boolean
  /** Never returned in `GET /` configuration output or logs. */
  readonly encrypted?: boolean
  /**
   * Kong's `transient`: validated input that is never stored (a certificate's `snis` list,
   * which the entity's {@link EntityDaoHooks} turn into rows of another entity).
   */
  readonly transient?: boolean
  /**
   * Whether `turnpike config dump` writes this value (absent: always). Deprecated fields left
   * null and Turnpike-only fields at their defaults are left out, so a dump loads into Kong OSS.
   */
  readonly dumped?: (value: unknown) => boolean
}

export interface StringField extends FieldBase {
  readonly type: 'string'
  readonly default?: string | null
  readonly one_of?: readonly string[]
  /** Values refused with `must not be one of: …` (a vault's prefix may not be a vault's name). */
  readonly not_one_of?: readonly string[]
  readonly len_min?: number
  readonly len_max?: number
  readonly starts_with?: string
  /** A JavaScript regular expression the whole value must match; `match_message` explains it. */
  readonly match?: RegExp
  readonly match_message?: string
  readonly uuid?: boolean
}

export interface NumberField extends FieldBase {
  readonly type: 'integer' | 'number'
  readonly default?: number | null
  readonly between?: readonly [number, number]
  readonly gt?: number
  readonly one_of?: readonly number[]
  /** Kong marks `created_at`/`updated_at` as timestamps. */
  readonly timestamp?: boolean
}

export interface BooleanField extends FieldBase {
  readonly type: 'boolean'
  readonly default?: boolean | null
}

export interface ArrayField extends FieldBase {
  /** `set` = array whose duplicates are removed on input, as Kong does. */
  readonly type: 'array' | 'set'
  readonly elements: Field
  readonly default?: readonly unknown[] | null
  readonly len_min?: number
  readonly len_max?: number
}

export interface MapField extends FieldBase {
  readonly type: 'map'
  readonly keys: Field
  readonly values: Field
  readonly default?: Readonly<Record<string, unknown>> | null
  readonly len_min?: number
}

export interface RecordField extends FieldBase {
  readonly type: 'record'
  readonly fields: Readonly<Record<string, Field>>
  readonly default?: Readonly<Record<string, unknown>> | null
  /** Record-level checks, same vocabulary as entity checks. */
  readonly entity_checks?: readonly EntityCheck[]
  /** Input-only fields expanded into this record's fields (Kong's `shorthand_fields` of a record). */
  readonly shorthand_fields?: Readonly<Record<string, Shorthand>>
}

export interface ForeignField extends FieldBase {
  readonly type: 'foreign'
  /** The referenced entity's name (`services`, `routes` …). Stored as `{ id }`. */
  readonly reference: string
  readonly on_delete?: 'cascade' | 'null' | 'restrict'
  readonly default?: null
}

/** Free-form JSON (plugin `config` before its subschema is applied, for example). */
export interface JsonField extends FieldBase {
  readonly type: 'json'
  readonly default?: unknown
}

export type Field = StringField | NumberField | BooleanField | ArrayField | MapField | RecordField | ForeignField | JsonField

/**
 * Entity-level checks, named as in Kong. Their messages are Kong's; they are reported under
 * `fields["@entity"]` (an array) except where Kong reports them under a field.
 */
export type EntityCheck =
  | { readonly at_least_one_of: readonly string[] }
  | { readonly only_one_of: readonly string[] }
  | { readonly mutually_exclusive: readonly string[] }
  | { readonly mutually_required: readonly string[] }
  | {
      readonly conditional: {
        readonly if_field: string
        readonly if_match: FieldConstraint
        readonly then_field: string
        readonly then_match: FieldConstraint
      }
    }
  | { readonly custom_entity_check: { readonly field_sources: readonly string[]; readonly fn: EntityCheckFn } }

/** A subset of field attributes used as a predicate in `conditional` checks. */
export interface FieldConstraint {
  readonly eq?: unknown
  readonly ne?: unknown
  readonly one_of?: readonly unknown[]
  readonly required?: boolean
  /** Value must be null/absent. */
  readonly eq_null?: boolean
  /** Value must not be any of these (Kong's `not_one_of`). */
  readonly not_one_of?: readonly unknown[]
  readonly match_none?: readonly { pattern: RegExp; err: string }[]
  readonly len_min?: number
  readonly contains?: unknown
  /** Extra check on the value (Kong's `then_match = { custom_validator = … }`). */
  readonly custom_validator?: FieldCheck
}

/**
 * A custom entity check: returns `undefined` when valid, or the errors to report, keyed by
 * field name (`"@entity"` for entity-level messages).
 */
export type EntityCheckFn = (row: Readonly<Record<string, unknown>>) => CheckErrors | undefined
export type CheckErrors = Record<string, string | string[]>

/**
 * A shorthand field is write-only input that is expanded into real fields before validation
 * (Kong's `shorthand_fields`, e.g. a service's `url`).
 */
export interface Shorthand {
  readonly type: 'string' | 'array' | 'record' | 'integer' | 'boolean'
  /** A string shorthand's least length (Kong's `len_min`; 1 when absent). */
  readonly len_min?: number
  /** `null` is expanded too (else an explicit `null` just removes the shorthand from the input). */
  readonly nullable?: boolean
  /**
   * Kong's `deprecation` of a shorthand that stands for a field moved elsewhere (rate-limiting's
   * `redis_host` for `redis.host`). With `replaced_with`, as in Kong 3.9's `process_auto_fields`:
   * the new field's non-null value wins over the shorthand's (a different value is an error), and
   * reads show the shorthand filled from the new field (`fillReplacedShorthands`).
   */
  readonly deprecation?: {
    readonly message: string
    readonly removal_in_version: string
    readonly replaced_with?: readonly [{ readonly path: readonly string[] }]
  }
  /** Returns the fields to merge into the input, or an error message for the shorthand. */
  readonly expand: (value: unknown) => Record<string, unknown> | { readonly error: string }
}

/** The definition of one entity. */
export interface EntitySchema {
  /** Plural, as in URLs and declarative files: `services`, `routes`. */
  readonly name: string
  readonly primary_key: readonly string[]
  /** The alternative key usable in URLs instead of the id (`name`, `username` …). */
  readonly endpoint_key?: string
  /** Fields that form Kong's cache key (composite uniqueness, deterministic ids). */
  readonly cache_key?: readonly string[]
  /** Ordered: the order is the order of `/schemas` output. */
  readonly fields: Readonly<Record<string, Field>>
  readonly entity_checks?: readonly EntityCheck[]
  readonly shorthand_fields?: Readonly<Record<string, Shorthand>>
  /** Rows whose key is unique only within the workspace; informational for us. */
  readonly workspaceable?: boolean
  /** The entity is only reachable under its parent in the Admin API (targets). */
  readonly admin_nested_only?: string
  /** Name used in `/tags` output and events (`services`). Defaults to `name`. */
  readonly dao_name?: string
  /** Entity supports a `ttl` on insert (key-auth credentials). */
  readonly ttl?: boolean
  /**
   * Admin API collection path when it differs from `name` (Kong's plugin DAOs:
   * `keyauth_credentials` → `/key-auths`).
   */
  readonly admin_path?: string
  /** Path segment under the parent named by `admin_nested_only`'s sibling rules (`/consumers/{c}/key-auth`). */
  readonly admin_nested_path?: { readonly parent: string; readonly field: string; readonly segment: string }
  /**
   * Kong's `subschema_key`: the field whose value picks a subschema (routes: `protocols`, the
   * first element that names a subschema wins). Unknown value → `unknown type: <value>`.
   */
  readonly subschema_key?: string
  readonly subschemas?: Readonly<Record<string, Subschema>>
  /**
   * Kong's `subschema_error`: the message for a subschema key that names no subschema, with `%s`
   * for the value (plugins: `plugin '%s' not enabled; …`). Default `unknown type: %s`.
   */
  readonly subschema_error?: string
  /**
   * Rewrites a validated row just before it is stored (hashing a password, deriving a value).
   * `input` is what the client sent (after foreign keys were resolved); `existing` is the stored
   * row on update/upsert. Must be synchronous and must not throw for valid rows.
   */
  readonly transform?: (row: Record<string, unknown>, ctx: TransformContext) => Record<string, unknown>
  /**
   * Array fields holding ids of rows of another entity (services' `ca_certificates`): field →
   * entity. The DAO and the declarative loader refuse an id that names no row, and deleting a
   * referenced row is refused (Kong's `referenced by others`). Not shown in `/schemas`.
   */
  readonly id_list_refs?: Readonly<Record<string, string>>
  /** Kong's custom DAO methods for this entity (certificates: the `snis` list). */
  readonly dao_hooks?: EntityDaoHooks
}

/** What a {@link EntityDaoHooks} method may read. */
export interface DaoReadContext {
  /** The store (inside a write: the open transaction). */
  readonly tx: Store
  /** Every row of `entity` whose foreign `field` points at `id`. */
  children(entity: string, field: string, id: string): Promise<Row[]>
}

/** What a {@link EntityDaoHooks} method may do inside the write's transaction. */
export interface DaoHookContext extends DaoReadContext {
  /** Inserts a row of another entity (already complete: id, timestamps) and reports it. */
  insert(entity: string, row: Row): Promise<Row>
  /** Deletes a row of another entity and reports it. */
  delete(entity: string, row: Row): Promise<void>
}

/**
 * Kong's per-entity DAO overrides (`kong/db/dao/certificates.lua`), kept with the entity. Every
 * method runs inside the write's transaction; a thrown DbError aborts the whole write.
 */
export interface EntityDaoHooks {
  /**
   * Before validation, on the client's input (transient fields included): what Kong refuses
   * before writing (duplicated or taken SNI names), as the field errors of a schema violation.
   * `id` is the row's id when known.
   */
  readonly beforeWrite?: (
    ctx: DaoHookContext,
    input: Readonly<Record<string, unknown>>,
    id: string | undefined,
  ) => Promise<FieldErrors | undefined>
  /**
   * After the row is stored: `transient` holds the validated transient fields the client sent
   * (absent when not sent). Returns the row as the Admin API answers it.
   */
  readonly afterWrite?: (ctx: DaoHookContext, row: Row, transient: Readonly<Record<string, unknown>>) => Promise<Row>
  /** Before the row is deleted (after `on_delete` checks): removes what Kong's DAO removes. */
  readonly beforeDelete?: (ctx: DaoHookContext, row: Row) => Promise<void>
  /** The row as the Admin API shows it (adds read-only pseudo-fields such as `snis`). */
  readonly view?: (ctx: DaoReadContext, row: Row) => Promise<Row>
}

/** What {@link EntitySchema.transform} is told about the write. */
export interface TransformContext {
  readonly op: 'insert' | 'update' | 'upsert'
  readonly input: Readonly<Record<string, unknown>>
  readonly existing: Readonly<Record<string, unknown>> | undefined
}

/** Field overrides and extra checks applied when the subschema key selects this subschema. */
export interface Subschema {
  readonly fields: Readonly<Record<string, Field>>
  readonly entity_checks?: readonly EntityCheck[]
}

/** Kong's nested field error shape: `{ host: "required field missing", "@entity": [...] }`. */
export interface FieldErrors {
  [field: string]: string | string[] | FieldErrors | (string | FieldErrors | null)[]
}

export type ValidationResult<Row> = { readonly ok: true; readonly row: Row } | { readonly ok: false; readonly errors: FieldErrors }

// ---------------------------------------------------------------------------------------------
// Row types inferred from a schema, so that the TypeScript types never drift from validation.
// ---------------------------------------------------------------------------------------------

/**
 * Required fields, and auto fields (always filled in by the DAO), are never null in a row. Every
 * other field may be: absent on input it gets its default (null without one), but an explicit
 * JSON `null` is stored as `null` even when the field has a default, as in Kong.
 */
type Nullable<F, T> = F extends { readonly required: true } | { readonly auto: true } ? T : T | null

/** A `one_of` list narrows a string or number to its literal values. */
type OneOf<F, T> = F extends { readonly one_of: readonly (infer V)[] } ? (V extends T ? V : T) : T

/** The value of an array's element or a map's value: elements are never null. */
type ElementValue<F> = FieldValue<F & { readonly required: true }>

/**
 * The TypeScript type of one field's stored value. Arrays, maps and records are read-only: rows
 * and plugin configurations are shared (between requests, with plugins) and never mutated.
 */
export type FieldValue<F> = F extends StringField
  ? Nullable<F, OneOf<F, string>>
  : F extends NumberField
    ? Nullable<F, OneOf<F, number>>
    : F extends BooleanField
      ? Nullable<F, boolean>
      : F extends ArrayField
        ? Nullable<F, readonly ElementValue<F['elements']>[]>
        : F extends MapField
          ? Nullable<F, Readonly<Record<string, ElementValue<F['values']>>>>
          : F extends RecordField
            ? Nullable<F, string extends keyof F['fields'] ? Readonly<Record<string, unknown>> : InferFields<F['fields']>>
            : F extends ForeignField
              ? Nullable<F, { readonly id: string }>
              : unknown

/** The value of a record whose fields are `Fs` (an entity's fields, a `record` field's, a plugin's `config`). */
export type InferFields<Fs extends Readonly<Record<string, Field>>> = { readonly [K in keyof Fs]: FieldValue<Fs[K]> }

/** The stored row of an entity schema. */
export type InferRow<S extends EntitySchema> = InferFields<S['fields']>

/**
 * A field's value once an explicit `null` has been replaced with the field's default
 * (`orDefault`): never null when the field has a default, nested records likewise.
 */
type DefaultedValue<F> = F extends RecordField
  ? string extends keyof F['fields']
    ? FieldValue<F>
    : F extends { readonly default: NonNullable<unknown> }
      ? InferDefaulted<F['fields']>
      : Nullable<F, InferDefaulted<F['fields']>>
  : F extends { readonly default: NonNullable<unknown> }
    ? NonNullable<FieldValue<F>>
    : FieldValue<F>

/**
 * The value of a record whose fields are `Fs` as code reads it after taking each field's default
 * where the row holds an explicit `null` (see `orDefault`): fields with a default are never null,
 * fields without one keep their `null`.
 */
export type InferDefaulted<Fs extends Readonly<Record<string, Field>>> = { readonly [K in keyof Fs]: DefaultedValue<Fs[K]> }
