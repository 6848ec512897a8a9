/**
 * The `plugins` entity (Kong 3.9 `kong/db/schema/entities/plugins.lua`), built from the plugin
 * registry: `name` picks the subschema (Kong's `subschema_key`), so each plugin's `config` is
 * validated by that plugin's own schema with its defaults, and an unknown name gets Kong's
 * `plugin 'x' not enabled; add it to the 'plugins' configuration property`.
 *
 * A plugin whose schema says `no_consumer` (auth plugins…) gets `consumer = { eq = null }` in its
 * subschema, as Kong's `typedefs.no_consumer`: scoping it to a consumer is refused with
 * `consumer: value must be null`. Same for `no_route` / `no_service`.
 *
 * `ordering` (Kong Enterprise's dynamic plugin ordering, open here) is
 * `{ before?: { access?: [names] }, after?: { access?: [names] } }`; its shape is checked here,
 * cycles between instances when the configuration is compiled.
 *
 * `entityRegistry` puts a node's whole registry together: the core entities, `consumers`, this
 * entity and the entities the enabled plugins own.
 *
 * @module
 */
import type { PluginRegistry } from './registry.js'
import type { AnyPlugin, Phase } from './types.js'
import { consumers, ENTITIES, vaultsEntity } from '../entities/index.js'
import { typedefs as t } from '../schema/index.js'
import type { ArrayField, EntitySchema, Field, InferFields, RecordField, Subschema } from '../schema/index.js'

export const PLUGIN_NOT_ENABLED = "plugin '%s' not enabled; add it to the 'plugins' configuration property"

/** The phases an `ordering` may name (Kong Enterprise accepts `access` only). */
export const ORDERING_PHASES = ['access'] as const satisfies readonly Phase[]

const orderingList = {
  type: 'array',
  elements: {
    type: 'string',
    custom_validator: (v: unknown) => (typeof v === 'string' && !/^[a-z0-9][a-z0-9-_]*$/.test(v) ? 'invalid plugin name' : undefined),
  },
} as const satisfies ArrayField

const orderingSide = {
  type: 'record',
  fields: { access: orderingList },
} as const satisfies RecordField

function namesOf(side: unknown, phase: string): string[] {
  if (typeof side !== 'object' || side === null) return []
  const list = (side as Record<string, unknown>)[phase]
  return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : []
}

/** `ordering`: who this instance runs before / after in a phase. */
export const pluginOrdering = {
  type: 'record',
  description: 'Run this plugin instance before or after other plugins in a phase (Kong Enterprise feature, open in Turnpike).',
  fields: { before: orderingSide, after: orderingSide },
  entity_checks: [
    {
      custom_entity_check: {
        field_sources: ['before', 'after'],
        fn: (row) => {
          for (const phase of ORDERING_PHASES) {
            const after = new Set(namesOf(row['after'], phase))
            const both = namesOf(row['before'], phase).filter((n) => after.has(n))
            if (both.length > 0)
              return { '@entity': `plugin '${both[0] ?? ''}' cannot be both before and after this plugin in the ${phase} phase` }
          }
          return undefined
        },
      },
    },
  ],
} as const satisfies RecordField

const baseFields = {
  id: t.uuid,
  name: { type: 'string', required: true, description: "The name of the Plugin that's going to be added." },
  instance_name: t.utf8_name,
  created_at: t.auto_timestamp_s,
  updated_at: t.auto_timestamp_s,
  route: {
    type: 'foreign',
    reference: 'routes',
    default: null,
    on_delete: 'cascade',
    description: 'If set, the plugin will only activate when receiving requests via the specified route.',
  },
  service: {
    type: 'foreign',
    reference: 'services',
    default: null,
    on_delete: 'cascade',
    description: 'If set, the plugin will only activate when receiving requests via one of the routes belonging to the specified service. ',
  },
  consumer: {
    type: 'foreign',
    reference: 'consumers',
    default: null,
    on_delete: 'cascade',
    description: 'If set, the plugin will activate only for requests where the specified has been authenticated.',
  },
  // Kong: `{ type = "record", abstract = true }`; the plugin's subschema supplies the fields.
  config: { type: 'record', abstract: true, fields: {}, description: 'The configuration properties for the Plugin.' } as RecordField,
  protocols: { ...t.protocols, description: 'A list of the request protocols that will trigger this plugin.' },
  enabled: { type: 'boolean', required: true, default: true, description: 'Whether the plugin is applied.' },
  tags: t.tags,
  ordering: pluginOrdering,
} as const satisfies Record<string, Field>

/** A stored `plugins` row; its `config` is typed by the plugin (`InferFields` of its schema). */
export type PluginRow = InferFields<typeof baseFields>

/** Kong's `typedefs.no_consumer` / `no_route` / `no_service`: a foreign key that must stay null. */
function mustBeNull(reference: string, description: string): Field {
  return { type: 'foreign', reference, eq: null, description } as unknown as Field
}

/** The subschema of one plugin: its `config` record and scope restrictions. */
export function pluginSubschema(plugin: AnyPlugin, opts: { readonly database?: string } = {}): Subschema {
  const s = plugin.schema
  const fields: Record<string, Field> = {}
  if (s.no_consumer === true)
    fields['consumer'] = mustBeNull('consumers', 'Custom type for representing a foreign key with a null value allowed.')
  if (s.no_route === true) fields['route'] = mustBeNull('routes', 'Custom type for representing a foreign key with a null value allowed.')
  if (s.no_service === true)
    fields['service'] = mustBeNull('services', 'Custom type for representing a foreign key with a null value allowed.')
  // Kong's plugin schemas declare their protocols; `typedefs.protocols_http` when the plugin does not say.
  const protocols = s.protocols ?? t.HTTP_PROTOCOLS
  fields['protocols'] = {
    type: 'set',
    required: true,
    default: [...protocols],
    elements: { type: 'string', one_of: [...protocols] },
    description: 'A set of strings representing HTTP protocols.',
  }
  fields['config'] = {
    type: 'record',
    required: true,
    fields: opts.database === 'off' && s.dbless_config !== undefined ? { ...s.config, ...s.dbless_config } : s.config,
    ...(s.config_checks === undefined ? {} : { entity_checks: s.config_checks }),
    ...(s.config_validator === undefined ? {} : { custom_validator: s.config_validator }),
  }
  return { fields }
}

/** The `plugins` entity schema for the plugins in `registry`. */
export function pluginsEntity(registry: PluginRegistry, opts: { readonly database?: string } = {}): EntitySchema {
  const subschemas: Record<string, Subschema> = {}
  for (const plugin of registry.all()) subschemas[plugin.name] = pluginSubschema(plugin, opts)
  return {
    name: 'plugins',
    primary_key: ['id'],
    endpoint_key: 'instance_name',
    cache_key: ['name', 'route', 'service', 'consumer'],
    workspaceable: true,
    subschema_key: 'name',
    subschema_error: PLUGIN_NOT_ENABLED,
    subschemas,
    fields: baseFields,
  }
}

/** Kong's `GET /schemas/plugins/{name}` body for one plugin (its subschema, as fields in order). */
export function pluginSchemaFields(plugin: AnyPlugin, opts: { readonly database?: string } = {}): Readonly<Record<string, Field>> {
  const sub = pluginSubschema(plugin, opts)
  const out: Record<string, Field> = {}
  for (const name of ['consumer', 'route', 'service', 'protocols', 'config']) {
    const f = sub.fields[name]
    if (f !== undefined) out[name] = f
  }
  return out
}

/**
 * The full registry for a node: the core entities, `consumers`, `plugins` (validating each
 * plugin's config with its own schema) and the entities the enabled plugins own (credentials),
 * in dependency order.
 */
export function entityRegistry(
  pluginRegistry: PluginRegistry,
  opts: { readonly vaults?: readonly string[]; readonly database?: string } = {},
): Readonly<Record<string, EntitySchema>> {
  const out: Record<string, EntitySchema> = { ...ENTITIES, consumers, plugins: pluginsEntity(pluginRegistry, opts) }
  // kong.conf `vaults`: the vault backends this node loaded (default: the bundled ones).
  if (opts.vaults !== undefined) out['vaults'] = vaultsEntity(opts.vaults)
  for (const entity of pluginRegistry.entities()) {
    if (Object.hasOwn(out, entity.name)) throw new Error(`entity '${entity.name}' is defined twice (by a plugin)`)
    out[entity.name] = entity
  }
  return out
}
