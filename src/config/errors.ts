/**
 * The error every configuration problem is reported with.
 *
 * @module
 */

/** Where a setting's value came from; used to point the user at the right line or variable. */
export type SettingSource =
  | { readonly kind: 'default' }
  | { readonly kind: 'file'; readonly path: string; readonly line: number }
  | { readonly kind: 'env'; readonly variable: string }
  | { readonly kind: 'override' }

/**
 * A configuration problem. The message is always one line naming the setting and the problem,
 * so the CLI can print it as is and exit 1.
 */
export class ConfigError extends Error {
  /** The setting at fault, when the problem concerns one setting. */
  readonly setting: string | undefined

  constructor(message: string, setting?: string) {
    // Values are quoted with JSON.stringify, but a path or an OS message could still hold a newline.
    super(message.replace(/[\r\n]+/g, ' '))
    this.name = 'ConfigError'
    this.setting = setting
  }
}

/** Describes a source for the end of an error message, e.g. ` (from KONG_PROXY_LISTEN)`. */
export function describeSource(source: SettingSource): string {
  switch (source.kind) {
    case 'file':
      return ` (set in ${source.path} line ${source.line})`
    case 'env':
      return ` (from ${source.variable})`
    case 'default':
    case 'override':
      return ''
  }
}

/**
 * Builds the error for a value that failed validation:
 * `invalid <name>: "<value>": <problem>[ (from <source>)]`.
 */
export function invalidSetting(name: string, value: string, problem: string, source: SettingSource): ConfigError {
  return new ConfigError(`invalid ${name}: ${JSON.stringify(value)}: ${problem}${describeSource(source)}`, name)
}
