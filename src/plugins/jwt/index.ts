/**
 * The `jwt` plugin (Kong 3.9, priority 1450): authenticates requests carrying a JSON Web Token
 * signed with a consumer's `jwt_secrets` credential (HS256/384/512 with `secret`; RS, ES, PS and
 * EdDSA with `rsa_public_key`). See {@link ./handler.ts} for the checks and their order.
 *
 * `anonymous` set: a failed authentication continues as that consumer (Kong's "logical OR"
 * between auth plugins; a request already authenticated by another plugin is left alone). Not
 * set: the failure is answered with Kong's 401 (no `request_id` in the body, as Kong's
 * `kong.response.exit`).
 *
 * @module
 */
import { KONG_COMPAT_VERSION } from '../../version.js'
import type { Pdk } from '../../pdk/types.js'
import { routeLabel, setConsumer, useAnonymous } from '../shared/consumer.js'
import type { Plugin } from '../types.js'
import { jwtSecrets } from './entities.js'
import { authenticate } from './handler.js'
import { type JwtConfig, jwtSchema } from './schema.js'

async function access(kong: Pdk, conf: JwtConfig): Promise<void> {
  if (!conf.run_on_preflight && kong.request.getMethod() === 'OPTIONS') return
  // Logical OR: another auth plugin already identified a credential.
  if (conf.anonymous !== null && kong.client.getCredential() !== null) return

  const result = await authenticate(kong, conf)
  if (result.ok) {
    setConsumer(kong, result.consumer, result.credential, {
      credentialIdentifier: typeof result.credential['key'] === 'string' ? result.credential['key'] : null,
    })
    kong.ctx.shared['authenticated_jwt_token'] = result.token
    kong.log.debug(`${result.log} (${routeLabel(kong)})`)
    return
  }
  if (conf.anonymous !== null) {
    kong.log.info(
      `authentication failed on ${routeLabel(kong)}, continuing as anonymous consumer ${JSON.stringify(conf.anonymous)}: ${result.log}`,
    )
    useAnonymous(kong, conf.anonymous)
    return
  }
  kong.log.notice(`refused with ${result.status} on ${routeLabel(kong)}: ${result.log}`)
  kong.response.exit(
    result.status,
    result.body,
    result.wwwAuthenticate === null ? undefined : { 'WWW-Authenticate': result.wwwAuthenticate },
  )
}

export const jwt: Plugin<JwtConfig> = {
  name: 'jwt',
  version: KONG_COMPAT_VERSION,
  priority: 1450,
  schema: jwtSchema,
  entities: [jwtSecrets],
  access,
}

export default jwt
