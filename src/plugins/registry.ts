/**
 * The plugin registry: the bundled plugins plus custom ones loaded from `plugins_path`, filtered by
 * the `plugins` setting (`bundled`, `bundled,my-plugin`, `off`). Built once per process; both the
 * control plane (to validate configs) and the workers (to run them) use it.
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { EntitySchema } from '../schema/index.js'
import { BUNDLED_PLUGINS } from './bundled.js'
import { PHASE_HANDLERS } from './phases.js'
import type { AnyPlugin } from './types.js'

export class PluginLoadError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PluginLoadError'
  }
}

export class PluginRegistry {
  readonly #plugins = new Map<string, AnyPlugin>()

  constructor(plugins: readonly AnyPlugin[]) {
    for (const p of plugins) {
      if (this.#plugins.has(p.name)) throw new PluginLoadError(`plugin '${p.name}' is defined twice`)
      this.#plugins.set(p.name, p)
    }
  }

  get(name: string): AnyPlugin | undefined {
    return this.#plugins.get(name)
  }

  has(name: string): boolean {
    return this.#plugins.has(name)
  }

  /** Enabled plugin names, sorted. */
  names(): string[] {
    return [...this.#plugins.keys()].sort()
  }

  all(): AnyPlugin[] {
    return [...this.#plugins.values()]
  }

  /** Entities contributed by enabled plugins (credentials…). */
  entities(): EntitySchema[] {
    return this.all().flatMap((p) => p.entities ?? [])
  }
}

/** Checks that a loaded module looks like a plugin, with one clear message when it does not. */
export function checkPluginShape(value: unknown, where: string): AnyPlugin {
  const p = value as Partial<AnyPlugin> | null
  const problems: string[] = []
  if (p === null || typeof p !== 'object')
    throw new PluginLoadError(`${where}: does not export a plugin object (default export or \`plugin\`)`)
  if (typeof p.name !== 'string' || !/^[a-z0-9][a-z0-9-_]*$/.test(p.name))
    problems.push('`name` must be a lower-case string such as "my-plugin"')
  if (typeof p.priority !== 'number' || !Number.isInteger(p.priority)) problems.push('`priority` must be an integer')
  if (typeof p.version !== 'string') problems.push('`version` must be a string')
  if (p.schema === undefined || typeof p.schema !== 'object' || typeof p.schema.config !== 'object')
    problems.push('`schema.config` must describe the config fields')
  for (const phase of ['init', 'prepare', ...Object.values(PHASE_HANDLERS), 'api', 'statusApi'] as const) {
    if (p[phase] !== undefined && typeof p[phase] !== 'function') problems.push(`\`${phase}\` must be a function`)
  }
  if (problems.length > 0) throw new PluginLoadError(`${where}: not a valid plugin: ${problems.join('; ')}`)
  return p as AnyPlugin
}

/**
 * Loads the plugins named by the `plugins` setting. `bundled` expands to every bundled plugin;
 * any other name is looked up in the bundled set, then as `<plugins_path>/<name>/index.js`,
 * `<plugins_path>/<name>.js` or `.mjs`.
 */
export async function loadPlugins(setting: readonly string[], pluginsPath: string | null): Promise<PluginRegistry> {
  const chosen: AnyPlugin[] = []
  const seen = new Set<string>()
  const add = (p: AnyPlugin): void => {
    if (!seen.has(p.name)) {
      seen.add(p.name)
      chosen.push(p)
    }
  }
  for (const entry of setting.map((s) => s.trim()).filter((s) => s !== '')) {
    if (entry === 'off') continue
    if (entry === 'bundled') {
      BUNDLED_PLUGINS.forEach(add)
      continue
    }
    const bundled = BUNDLED_PLUGINS.find((p) => p.name === entry)
    if (bundled !== undefined) {
      add(bundled)
      continue
    }
    if (pluginsPath === null) throw new PluginLoadError(`plugin '${entry}' is not bundled and no plugins_path is set to look for it`)
    const dir = resolve(pluginsPath)
    const candidates = [join(dir, entry, 'index.js'), join(dir, entry, 'index.mjs'), join(dir, `${entry}.js`), join(dir, `${entry}.mjs`)]
    const file = candidates.find((c) => existsSync(c))
    if (file === undefined) throw new PluginLoadError(`plugin '${entry}' not found: looked for ${candidates.join(', ')}`)
    let mod: Record<string, unknown>
    try {
      mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>
    } catch (err) {
      throw new PluginLoadError(`plugin '${entry}' (${file}) failed to load: ${(err as Error).message}`)
    }
    const plugin = checkPluginShape(mod['default'] ?? mod['plugin'], file)
    if (plugin.name !== entry)
      throw new PluginLoadError(`${file}: exports a plugin named '${plugin.name}', but the plugins setting asks for '${entry}'`)
    add(plugin)
  }
  return new PluginRegistry(chosen)
}
