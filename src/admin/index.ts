/**
 * The Admin API (pure logic; see `src/http/` for the socket adapter).
 *
 * @module
 */
export { createAdminApi, type AdminApi, type AdminApiOptions } from './admin-api.js'
export { AdminHttpError } from './errors.js'
export { badRequest } from './errors.js'
export { headerValue, parseRequestBody } from './request-body.js'
export { AdminRouter, BadPathError, type AdminContext, type AdminHandler, type AdminRoute } from './router.js'
export type { AdminRequest, AdminResponse, NodeInfo } from './types.js'
