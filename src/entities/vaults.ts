/**
 * The `vaults` entity (Kong 3.9 `kong/db/schema/entities/vaults.lua`): a named configuration of a
 * vault backend, found by its `prefix` in references (`{vault://<prefix>/<resource>}`). `name`
 * picks the backend (Kong's `subschema_key`); its `config` is validated by that backend's own
 * schema. Kong OSS bundles one backend, `env` (`kong/vaults/env/schema.lua`): environment
 * variables, with an optional `config.prefix` put in front of the resource's name.
 *
 * @module
 */
import { typedefs as t } from '../schema/index.js'
import type { EntitySchema, InferRow, RecordField, Subschema } from '../schema/index.js'

/** Kong OSS's bundled vaults (`constants.BUNDLED_VAULTS`). */
export const BUNDLED_VAULTS = ['env'] as const

/** The `env` vault's `config` (Kong's `kong/vaults/env/schema.lua`; entity records are required). */
export const envVaultConfig = {
  type: 'record',
  required: true,
  fields: {
    prefix: {
      type: 'string',
      // Lua `^[%a_-][%a%d_-]*$`
      match: /^[A-Za-z_-][A-Za-z0-9_-]*$/,
      description: 'The prefix for the environment variable that the value will be stored in.',
    },
  },
} as const satisfies RecordField

/** The subschemas of the bundled vaults, by name. */
export const VAULT_SUBSCHEMAS: Readonly<Record<(typeof BUNDLED_VAULTS)[number], Subschema>> = {
  env: { fields: { config: envVaultConfig } },
}

/**
 * The entity for a node that loaded `loaded` (kong.conf `vaults`): only their subschemas, and the
 * prefix may not be one of their names (Kong builds both from `loaded_vaults`). `vaults = off`: no
 * backend, every `name` is `vault 'env' is not installed`.
 */
export function vaultsEntity(loaded: readonly string[]): EntitySchema {
  const subschemas: Record<string, Subschema> = {}
  for (const [name, sub] of Object.entries(VAULT_SUBSCHEMAS)) if (loaded.includes(name)) subschemas[name] = sub
  return {
    ...vaults,
    subschemas,
    fields: { ...vaults.fields, prefix: { ...vaults.fields.prefix, not_one_of: loaded.filter((n) => Object.hasOwn(VAULT_SUBSCHEMAS, n)) } },
  }
}

export const vaults = {
  name: 'vaults',
  primary_key: ['id'],
  cache_key: ['prefix'],
  endpoint_key: 'prefix',
  workspaceable: true,
  subschema_key: 'name',
  subschema_error: "vault '%s' is not installed",
  subschemas: VAULT_SUBSCHEMAS,
  fields: {
    id: t.uuid,
    // The prefix is the host part of a reference URI: {vault://<vault-prefix>/<secret-id>[/<secret-key>]}
    prefix: {
      type: 'string',
      required: true,
      unique: true,
      // Lua `^[a-z][a-z%d-]-[a-z%d]+$`
      match: /^[a-z][a-z0-9-]*?[a-z0-9]+$/,
      not_one_of: BUNDLED_VAULTS,
      description: 'The unique prefix (or identifier) for this Vault configuration.',
    },
    name: { type: 'string', required: true, description: "The name of the Vault that's going to be added." },
    description: { type: 'string', description: 'The description of the Vault entity.' },
    // Kong: `{ type = "record", abstract = true }`; the vault's subschema supplies the fields.
    config: {
      type: 'record',
      abstract: true,
      required: true,
      fields: {},
      description: "The configuration properties for the Vault which can be found on the vaults' documentation page.",
    } as RecordField,
    created_at: t.auto_timestamp_s,
    updated_at: t.auto_timestamp_s,
    tags: t.tags,
  },
} as const satisfies EntitySchema

/** A stored vault row. */
export type Vault = InferRow<typeof vaults>
