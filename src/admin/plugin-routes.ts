/**
 * Plugin endpoints that are not generated from the entity registry (Kong's
 * `kong/api/routes/plugins.lua` and `kong.lua`):
 *
 * - `GET /plugins/enabled` → `{"enabled_plugins": [...]}` (the plugins this node loaded);
 * - `GET /schemas/plugins/{name}` → the plugin's schema as Kong prints it (its subschema:
 *   `consumer`/`route`/`service` restrictions, `protocols`, `config`), or 404
 *   `No plugin named 'x'`;
 * - `POST /schemas/plugins/validate` → validates a whole plugin entity without storing it;
 * - `GET /plugins/schema/{name}` → the deprecated form, the `config` record only.
 *
 * @module
 */
import type { Dao } from '../dao/index.js'
import { pluginSchemaFields } from '../plugins/entity.js'
import { schemaViolation } from '../errors/db-errors.js'
import type { PluginRegistry } from '../plugins/registry.js'
import { schemaToJson } from '../schema/index.js'
import type { EntitySchema } from '../schema/index.js'
import { AdminHttpError } from './errors.js'
import { inputFor, ok } from './respond.js'
import type { AdminRoute } from './router.js'

export interface PluginRouteDeps {
  readonly dao: Dao
  readonly plugins: PluginRegistry
  /** The node's `database` setting: some plugin schemas differ without one (rate-limiting's `policy`). */
  readonly database?: string
}

function noSuchPlugin(name: string): AdminHttpError {
  return new AdminHttpError(404, { message: `No plugin named '${name}'` })
}

/** The `{ fields: [...], entity_checks: [...] }` body for a plugin, through the same renderer as entity schemas. */
function pluginSchemaJson(plugins: PluginRegistry, name: string, database: string | undefined): unknown {
  const plugin = plugins.get(name)
  if (plugin === undefined) throw noSuchPlugin(name)
  const view: EntitySchema = {
    name,
    primary_key: ['id'],
    fields: pluginSchemaFields(plugin, database === undefined ? {} : { database }),
  }
  return schemaToJson(view)
}

export function pluginRoutes({ dao, plugins, database }: PluginRouteDeps): AdminRoute[] {
  return [
    { path: '/plugins/enabled', methods: { GET: async () => ok({ enabled_plugins: plugins.names() }) } },
    {
      path: '/schemas/plugins/{name}',
      methods: { GET: async (ctx) => ok(pluginSchemaJson(plugins, ctx.params['name'] ?? '', database)) },
    },
    {
      path: '/plugins/schema/{name}',
      methods: {
        GET: async (ctx) => {
          // Kong: schema_to_jsonable of the config record, so its checks come along (empty when none)
          const body = pluginSchemaJson(plugins, ctx.params['name'] ?? '', database) as {
            fields: Record<string, { fields?: unknown; entity_checks?: unknown }>[]
          }
          const config = body.fields.find((f) => 'config' in f)?.['config']
          return ok({ fields: config?.fields ?? [], entity_checks: config?.entity_checks ?? [] })
        },
      },
    },
    {
      path: '/schemas/plugins/validate',
      methods: {
        POST: async (ctx) => {
          const schema = dao.schema('plugins')
          const errors = dao.validateInput('plugins', inputFor(ctx, schema))
          if (errors !== null) throw schemaViolation(errors)
          return ok({ message: 'schema validation successful' })
        },
      },
    },
  ]
}
