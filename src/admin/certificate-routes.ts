/**
 * Kong's `kong/api/routes/certificates.lua` on top of the generated certificate routes: a
 * certificate is addressed by id or by one of its SNI names (`/certificates/example.com`,
 * `/certificates/example.com/snis`); an unknown name is 404 `SNI not found`, except for PUT,
 * which creates a certificate that gets that name. PUT and PATCH take `snis` as a list or a single
 * name; a PUT without `snis` removes the certificate's SNIs (it replaces the whole entity).
 * `/snis/{snis}/certificate` is disabled (404 for every method), as in Kong's `snis.lua`.
 *
 * @module
 */
import { randomUUID } from 'node:crypto'
import type { Dao } from '../dao/index.js'
import { isUuid } from '../ids/uuid.js'
import { AdminHttpError, notFound } from './errors.js'
import type { AdminContext, AdminHandler, AdminRoute } from './router.js'

const PARAM = 'certificates'

/** The paths whose `{certificates}` parameter may be an SNI name. */
const BY_SNI = new Set(['/certificates/{certificates}', '/certificates/{certificates}/snis', '/certificates/{certificates}/snis/{snis}'])

/** Kong's `prepare_params`: the certificate id for the parameter, and the SNI name when one was given. */
async function certificateKey(dao: Dao, ctx: AdminContext, method: string): Promise<{ id: string; name?: string }> {
  const key = ctx.params[PARAM] ?? ''
  if (isUuid(key)) return { id: key }
  const sni = await dao.select('snis', key)
  const owner = sni === null ? undefined : (sni['certificate'] as { id?: unknown } | null)?.id
  if (typeof owner === 'string') return { id: owner, name: key }
  if (method !== 'PUT') throw new AdminHttpError(404, { message: 'SNI not found' })
  return { id: randomUUID(), name: key }
}

/** Kong's `prepare_args`: `snis` as a list, the URL's name added on PUT, null on a PUT without it. */
function snisArgument(input: Readonly<Record<string, unknown>>, method: string, name: string | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...input }
  const snis = input['snis']
  if (Array.isArray(snis)) {
    if (name !== undefined && method === 'PUT' && !snis.includes(name)) out['snis'] = [...snis, name]
  } else if (typeof snis === 'string') {
    out['snis'] = name !== undefined && method === 'PUT' && name !== snis ? [snis, name] : [snis]
  } else if ((snis === undefined || snis === null) && method === 'PUT') {
    out['snis'] = null
  }
  return out
}

function wrap(dao: Dao, handler: AdminHandler, method: string, entityPath: boolean): AdminHandler {
  return async (ctx) => {
    const { id, name } = await certificateKey(dao, ctx, method)
    const params = { ...ctx.params, [PARAM]: id }
    const body =
      entityPath && (method === 'PUT' || method === 'PATCH') ? { ...ctx.body, value: snisArgument(ctx.body.value, method, name) } : ctx.body
    return handler({ ...ctx, params, body })
  }
}

/** The generated routes, with the certificate ones taking SNI names (others unchanged). */
export function withCertificateSniKeys(dao: Dao, routes: readonly AdminRoute[]): AdminRoute[] {
  return routes.map((route) => {
    if (route.path === '/snis/{snis}/certificate') {
      const disabled: AdminHandler = () => Promise.reject(notFound())
      return { ...route, methods: Object.fromEntries(Object.keys(route.methods).map((m) => [m, disabled])) }
    }
    if (!BY_SNI.has(route.path)) return route
    const methods: Record<string, AdminHandler> = {}
    for (const [method, handler] of Object.entries(route.methods)) {
      if (handler !== undefined) methods[method] = wrap(dao, handler, method, route.path === '/certificates/{certificates}')
    }
    return { ...route, methods }
  })
}
