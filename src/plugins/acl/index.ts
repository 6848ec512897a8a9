/**
 * The `acl` plugin (Kong 3.9, priority 950): lets consumers in (or keeps them out) by group.
 * Memberships are `acls` rows (`/consumers/{consumer}/acls`, `/acls`). Needs an authentication
 * plugin to run before it.
 *
 * @module
 */
import { KONG_COMPAT_VERSION } from '../../version.js'
import type { Plugin } from '../types.js'
import { acls } from './entities.js'
import { aclAccess, prepareAcl, type AclPrepared } from './handler.js'
import { aclSchema, type AclConfig } from './schema.js'

export const acl: Plugin<AclConfig, AclPrepared> = {
  name: 'acl',
  version: KONG_COMPAT_VERSION,
  priority: 950,
  schema: aclSchema,
  entities: [acls],
  prepare: prepareAcl,
  access: aclAccess,
}

export default acl
