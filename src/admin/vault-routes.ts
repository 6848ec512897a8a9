/**
 * Vault endpoints that are not generated from the entity registry (Kong's `kong/api/routes/kong.lua`):
 *
 * - `GET /schemas/vaults/{name}` → the vault backend's schema (its subschema: `config`), or 404
 *   `No vault named 'x'`;
 * - `POST /schemas/vaults/validate` → validates a whole vault entity without storing it.
 *
 * `/vaults` and `/vaults/{id or prefix}` themselves are the generated entity routes.
 *
 * @module
 */
import type { Dao } from '../dao/index.js'
import { schemaViolation } from '../errors/db-errors.js'
import { schemaToJson } from '../schema/index.js'
import { AdminHttpError } from './errors.js'
import { inputFor, ok } from './respond.js'
import type { AdminRoute } from './router.js'

export function vaultRoutes(dao: Dao): AdminRoute[] {
  return [
    {
      path: '/schemas/vaults/{name}',
      methods: {
        GET: async (ctx) => {
          const name = ctx.params['name'] ?? ''
          const subschemas = dao.schema('vaults').subschemas ?? {}
          const sub = Object.hasOwn(subschemas, name) ? subschemas[name] : undefined
          if (sub === undefined) throw new AdminHttpError(404, { message: `No vault named '${name}'` })
          return ok(schemaToJson({ name, primary_key: ['id'], fields: sub.fields }))
        },
      },
    },
    {
      path: '/schemas/vaults/validate',
      methods: {
        POST: async (ctx) => {
          const errors = dao.validateInput('vaults', inputFor(ctx, dao.schema('vaults')))
          if (errors !== null) throw schemaViolation(errors)
          return ok({ message: 'schema validation successful' })
        },
      },
    },
  ]
}
