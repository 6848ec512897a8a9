/**
 * Tiny plugins for tests of the plugin entities and Admin API: shapes like Kong's key-auth,
 * basic-auth, jwt, acl and rate-limiting, with no request logic.
 */
import { PluginRegistry } from '../../../src/plugins/registry.js'
import type { AnyPlugin } from '../../../src/plugins/types.js'
import { keyauthCredentials } from '../../../src/plugins/key-auth/entities.js'
import { basicauthCredentials } from '../../../src/plugins/basic-auth/entities.js'
import { jwtSecrets } from '../../../src/plugins/jwt/entities.js'
import { acls } from '../../../src/plugins/acl/entities.js'
import { entityRegistry } from '../../../src/plugins/entity.js'

export const keyAuth: AnyPlugin = {
  name: 'key-auth',
  version: '3.9.1',
  priority: 1250,
  schema: {
    no_consumer: true,
    config: {
      key_names: { type: 'array', required: true, elements: { type: 'string' }, default: ['apikey'] },
      hide_credentials: { type: 'boolean', required: true, default: false },
      anonymous: { type: 'string' },
      key_in_header: { type: 'boolean', required: true, default: true },
      key_in_query: { type: 'boolean', required: true, default: true },
      key_in_body: { type: 'boolean', required: true, default: false },
      run_on_preflight: { type: 'boolean', required: true, default: true },
      realm: { type: 'string', required: false },
    },
  },
  entities: [keyauthCredentials],
}

export const basicAuth: AnyPlugin = {
  name: 'basic-auth',
  version: '3.9.1',
  priority: 1100,
  schema: {
    no_consumer: true,
    config: {
      anonymous: { type: 'string' },
      hide_credentials: { type: 'boolean', required: true, default: false },
      realm: { type: 'string', required: true, default: 'service' },
    },
  },
  entities: [basicauthCredentials],
}

export const jwt: AnyPlugin = {
  name: 'jwt',
  version: '3.9.1',
  priority: 1450,
  schema: { no_consumer: true, config: { key_claim_name: { type: 'string', default: 'iss' } } },
  entities: [jwtSecrets],
}

export const acl: AnyPlugin = {
  name: 'acl',
  version: '3.9.1',
  priority: 950,
  schema: {
    no_consumer: true,
    config: {
      allow: { type: 'array', elements: { type: 'string' } },
      deny: { type: 'array', elements: { type: 'string' } },
      hide_groups_header: { type: 'boolean', required: true, default: false },
    },
    config_checks: [{ only_one_of: ['allow', 'deny'] }],
  },
  entities: [acls],
}

export const rateLimiting: AnyPlugin = {
  name: 'rate-limiting',
  version: '3.9.1',
  priority: 910,
  schema: {
    config: {
      minute: { type: 'number', gt: 0 },
      hour: { type: 'number', gt: 0 },
      policy: { type: 'string', default: 'local', one_of: ['local', 'cluster', 'redis'] },
    },
    config_checks: [{ at_least_one_of: ['minute', 'hour'] }],
  },
}

/** A stream-capable plugin with its own protocols. */
export const ipRestriction: AnyPlugin = {
  name: 'ip-restriction',
  version: '3.9.1',
  priority: 990,
  schema: {
    protocols: ['grpc', 'grpcs', 'http', 'https', 'tcp', 'tls'],
    config: { allow: { type: 'array', elements: { type: 'string' } } },
  },
}

export const TEST_PLUGINS = [keyAuth, basicAuth, jwt, acl, rateLimiting, ipRestriction]

export function testPluginRegistry(): PluginRegistry {
  return new PluginRegistry(TEST_PLUGINS)
}

/** services, routes, consumers, plugins and the test plugins' credential entities. */
export function testEntities(registry = testPluginRegistry()) {
  return entityRegistry(registry)
}
