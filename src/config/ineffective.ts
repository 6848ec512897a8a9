/**
 * Settings a Kong user may carry over that Turnpike accepts but cannot act on, named once each
 * at start (`warn`): Kong Enterprise settings, and `nginx_*` directive injections other than the
 * ones Turnpike implements (client body size and timeouts, keep-alive, the aliases of its own
 * settings). Kong's own not-yet-built OSS settings are listed in docs/configuration.md instead.
 *
 * @module
 */
import { isKongEnterpriseSetting, KONG_DYNAMIC_PREFIXES } from './kong-settings.js'
import { ALIASES, SETTING_NAMES } from './settings.js'
import type { GatewayConfig } from './types.js'

const HONOURED: ReadonlySet<string> = new Set<string>([...SETTING_NAMES, ...Object.values(ALIASES).flat()])

/** The nginx directive a Kong `nginx_<block>_<directive>` setting injects. */
function directiveOf(name: string): string {
  const prefix = KONG_DYNAMIC_PREFIXES.find((p) => name.startsWith(p)) ?? ''
  return name.slice(prefix.length)
}

/** One line per given setting that has no effect here, in name order. */
export function ineffectiveSettings(config: GatewayConfig): string[] {
  const lines: string[] = []
  for (const name of Object.keys(config.raw).sort()) {
    if (HONOURED.has(name)) continue
    if (isKongEnterpriseSetting(name)) lines.push(`${name} is a Kong Enterprise setting: accepted, no effect in Turnpike`)
    else if (name.startsWith('nginx_') && KONG_DYNAMIC_PREFIXES.some((p) => name.startsWith(p)))
      lines.push(
        `${name} injects the nginx directive '${directiveOf(name)} ${config.raw[name] ?? ''}': accepted, no effect in Turnpike (there is no nginx); see docs/configuration.md for the nginx_* settings it implements`,
      )
  }
  return lines
}
