/**
 * Gateway configuration: loading kong.conf-style files and environment variables.
 *
 * @module
 */

export type { GatewayConfig, ListenAddress, LogLevel, SslProtocol } from './types.js'
export { loadConfig, findConfFile, DEFAULT_CONF_PATHS, type LoadConfigOptions } from './load.js'
export { ConfigError, type SettingSource } from './errors.js'
export { parseConfFile, type ConfEntry } from './conf-file.js'
export { parseListen, parseListenEntry, LISTEN_FLAGS } from './listen.js'
export { publicConfiguration, isSensitiveSetting, REDACTED } from './redact.js'
export { DEFAULTS, SETTING_NAMES, type SettingName } from './settings.js'
export { KONG_UNIMPLEMENTED_SETTINGS, KONG_DYNAMIC_PREFIXES, isKongPassThrough } from './kong-settings.js'
export { ValueProblem } from './value-problem.js'
export { ineffectiveSettings } from './ineffective.js'
export { sizeToBytes } from './values.js'
export { urlOrigin } from './build.js'
export { editDistance, suggest } from './did-you-mean.js'
