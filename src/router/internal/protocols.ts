/**
 * Protocol checks the proxy applies after a match. Kong's router does not filter http routes
 * by scheme: an https-only route also matches a plain-http request, and the runloop then
 * answers with the route's `https_redirect_status_code`.
 *
 * @module
 */

import type { RouteInput } from '../types.js'

/**
 * Returns the status Kong answers when an https-only route is reached over plain http
 * (426, or 301/302/307/308 with `Location: https://<host><request uri>`), or null to proceed.
 *
 * @param forwardedProto `X-Forwarded-Proto` from a trusted peer, else the request scheme.
 * @example httpsRedirectStatus({ protocols: ['https'], https_redirect_status_code: 426 }, 'http') // 426
 */
export function httpsRedirectStatus(
  route: Pick<RouteInput, 'protocols' | 'https_redirect_status_code'>,
  forwardedProto: string,
): number | null {
  const p = route.protocols
  if (!p.includes('https') || p.includes('http') || forwardedProto === 'https') return null
  const code = route.https_redirect_status_code
  return code === 301 || code === 302 || code === 307 || code === 308 ? code : 426
}
