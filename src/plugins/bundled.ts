/**
 * The plugins bundled with Turnpike (`plugins = bundled`). Each lives in its own folder under
 * `src/plugins/`, named as in Kong.
 */
import type { AnyPlugin } from './types.js'

export const BUNDLED_PLUGINS: readonly AnyPlugin[] = []
