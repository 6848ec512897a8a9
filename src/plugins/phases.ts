/**
 * The plugin phases, named once. Kong's spelling (`header_filter`) is the name everywhere a phase
 * is named — logs, error messages, `ordering`, docs; `PHASE_HANDLERS` is the one table from a
 * phase to the handler a plugin implements for it (`headerFilter`).
 *
 * @module
 */
import type { Plugin } from './types.js'

/** The request phases, in the order they run. */
export const PHASES = ['rewrite', 'access', 'header_filter', 'body_filter', 'log'] as const

/** A phase, as Kong spells it. */
export type Phase = (typeof PHASES)[number]

/** Phase → the plugin's handler for it. */
export const PHASE_HANDLERS = {
  rewrite: 'rewrite',
  access: 'access',
  header_filter: 'headerFilter',
  body_filter: 'bodyFilter',
  log: 'log',
} as const satisfies Record<Phase, keyof Plugin>

/** The name of a phase handler on a plugin (`headerFilter`…). */
export type PhaseHandler = (typeof PHASE_HANDLERS)[Phase]
