/**
 * `POST /trace` on the Admin API: the request in the JSON body explained (docs/trace.md).
 *
 * @module
 */
import { badRequest, type AdminContext, type AdminResponse, type AdminRoute } from '../admin/index.js'
import { parseTraceInput } from './trace-input.js'
import type { Tracer } from './trace.js'

/** Form bodies carry text only: `send=true` is the boolean. */
function fields(ctx: AdminContext): Record<string, unknown> {
  const value: Record<string, unknown> = { ...ctx.body.value }
  if (ctx.body.kind === 'form' && typeof value['send'] === 'string') value['send'] = value['send'] === 'true'
  for (const name of ['method', 'url', 'client_ip', 'send']) {
    const q = ctx.query.get(name)
    if (q !== null && value[name] === undefined) value[name] = name === 'send' ? q === 'true' : q
  }
  return value
}

export function traceRoutes(tracer: () => Tracer): AdminRoute[] {
  return [
    {
      path: '/trace',
      methods: {
        POST: async (ctx): Promise<AdminResponse> => {
          const input = parseTraceInput(fields(ctx))
          if (typeof input === 'string') throw badRequest(input)
          let result
          try {
            result = await tracer().trace(input)
          } catch (err) {
            if (err instanceof Error && err.name === 'TraceConfigError') return { status: 503, headers: {}, body: { message: err.message } }
            if (err instanceof Error && err.name === 'TraceBusyError')
              return { status: 429, headers: { 'Retry-After': '1' }, body: { message: err.message } }
            throw err
          }
          return { status: 200, headers: {}, body: result }
        },
      },
    },
  ]
}
