/**
 * The doctor's Admin API endpoints: `GET /doctor` (every service) and `GET /services/{service}/doctor`
 * (one, by id or name). Query: `route`, `path`, `method`, `keepalive_wait`, `checks`; a bad value
 * answers 400 `{message}`, an unknown service or route 404 `{"message":"Not found"}`.
 *
 * @module
 */
import { AdminHttpError, badRequest, type AdminContext, type AdminRoute } from '../admin/index.js'
import { DoctorNotFound, runDoctor, type DoctorDeps } from './doctor.js'
import { DoctorOptionError, doctorOptions } from './report.js'

/** Runs at once on this node: each probes up to 8 services, so more would flood the upstreams. */
const MAX_RUNS = 4
let running = 0

async function answer(deps: DoctorDeps, ctx: AdminContext, service: string | undefined) {
  let options
  try {
    options = doctorOptions(ctx.query)
  } catch (err) {
    if (err instanceof DoctorOptionError) throw badRequest(err.message)
    throw err
  }
  if (running >= MAX_RUNS)
    throw new AdminHttpError(429, { message: `doctor: ${MAX_RUNS} runs already in progress, try again when they end` })
  running++
  try {
    return { status: 200, headers: {}, body: await runDoctor(deps, service, options) }
  } catch (err) {
    if (err instanceof DoctorNotFound) throw new AdminHttpError(404, { message: 'Not found' })
    throw err
  } finally {
    running--
  }
}

export function doctorRoutes(deps: DoctorDeps): AdminRoute[] {
  return [
    { path: '/doctor', methods: { GET: (ctx) => answer(deps, ctx, undefined) } },
    { path: '/services/{services}/doctor', methods: { GET: (ctx) => answer(deps, ctx, ctx.params['services']) } },
  ]
}
