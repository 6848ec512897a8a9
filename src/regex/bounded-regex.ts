/**
 * Regexes whose source comes from configuration (route paths and headers, plugin settings) and
 * that run on request data: every match costs bounded time, whatever the pattern and the input.
 *
 * Kong runs route regexes with Rust's `regex` crate (linear time) and plugin regexes with PCRE
 * under `lua_regex_match_limit` (a match that exceeds it fails and is logged). Here:
 *
 * - a pattern the linear engine supports runs in linear time: anchored patterns (one start
 *   position) as ordinary backtracking RegExps, which V8 moves to the linear engine after
 *   excessive backtracking (see ./engine-flags.ts), everything else with the `l` flag;
 *   A case-insensitive pattern on a V8 whose linear engine lacks `i` (Node 20 to 24 at least) has its ASCII
 *   letters folded instead (./fold-case.ts);
 * - a pattern it does not support (lookarounds, backreferences; `u` on older V8) runs in a
 *   separate V8 context under a watchdog of `REGEX_MATCH_TIMEOUT_MS`: past it the match fails
 *   (treated as no match, as PCRE's match limit is) and `onRegexTimeout` listeners are told.
 *
 * @module
 */
import { createContext, Script } from 'node:vm'
import { linearEngineAvailable } from './engine-flags.js'
import { foldAsciiCase } from './fold-case.js'

/**
 * The longest a single match of a pattern the linear engine cannot run may take (wall clock; a
 * match cut short while the process got under half of that CPU time is tried once more).
 */
export const REGEX_MATCH_TIMEOUT_MS = 20

/** The part of RegExp the gateway uses on request data. */
export interface BoundedRegex {
  readonly source: string
  readonly flags: string
  exec(input: string): RegExpExecArray | null
  test(input: string): boolean
}

type TimeoutListener = (source: string, inputLength: number) => void
const listeners: TimeoutListener[] = []

/** Registers a listener told when a sandboxed match is stopped (the error log, in a worker). */
export function onRegexTimeout(listener: TimeoutListener): void {
  listeners.push(listener)
}

const COMPILE = new Script('new RegExp(source, flags)')
const EXEC = new Script('re.exec(input)')

interface Sandbox {
  source: string
  flags: string
  re: RegExp | null
  input: string
}

/** One V8 context for every sandboxed pattern (a context costs memory; a pattern almost none). */
let sandbox: Sandbox | null = null
function sharedSandbox(): Sandbox {
  sandbox ??= createContext({ source: '', flags: '', re: null, input: '' }) as unknown as Sandbox
  return sandbox
}

/** A pattern matched in a separate V8 context under a timeout. */
class SandboxedRegex implements BoundedRegex {
  readonly source: string
  readonly flags: string
  readonly #re: RegExp
  constructor(source: string, flags: string) {
    this.source = source
    this.flags = flags
    // The RegExp is created inside the context, from data (never spliced into code).
    const box = sharedSandbox()
    box.source = source
    box.flags = flags
    this.#re = COMPILE.runInContext(box as unknown as object) as RegExp
    box.source = ''
  }
  exec(input: string): RegExpExecArray | null {
    const box = sharedSandbox()
    box.re = this.#re
    box.input = input
    try {
      // The watchdog counts wall-clock time: a match stopped while the process was mostly
      // descheduled (a busy host) has not really cost 20 ms, and is tried once more.
      for (let attempt = 1; ; attempt++) {
        const cpu = process.cpuUsage()
        try {
          return EXEC.runInContext(box as unknown as object, { timeout: REGEX_MATCH_TIMEOUT_MS }) as RegExpExecArray | null
        } catch (err) {
          if ((err as { code?: unknown }).code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw err
          const used = process.cpuUsage(cpu)
          if (attempt === 1 && used.user + used.system < REGEX_MATCH_TIMEOUT_MS * 500) continue
          for (const l of listeners) l(this.source, input.length)
          return null
        }
      }
    } finally {
      box.re = null
      box.input = ''
    }
  }
  test(input: string): boolean {
    return this.exec(input) !== null
  }
}

/** Whether every match of `source` can only start at position 0 (so no quadratic scan). */
function anchoredOnce(source: string, flags: string): boolean {
  return source.startsWith('^') && !source.includes('|') && !flags.includes('m')
}

function linearRegex(source: string, flags: string): RegExp | null {
  try {
    return new RegExp(source, flags + 'l')
  } catch {
    return null
  }
}

/**
 * Compiles a configuration-supplied pattern (throws SyntaxError like `new RegExp` when it does
 * not compile). `g`/`y` must not be passed: matches are stateless.
 */
export function boundedRegex(source: string, flags = ''): BoundedRegex {
  const plain = new RegExp(source, flags) // syntax errors surface as from `new RegExp`
  if (linearEngineAvailable) {
    const linear = linearRegex(source, flags)
    if (linear !== null) return anchoredOnce(source, flags) ? plain : linear
    // V8 up to Node 24's at least has no case-insensitive linear engine: fold the letters instead.
    const folded = flags === 'i' ? foldAsciiCase(source) : null
    const foldedLinear = folded === null ? null : linearRegex(folded, '')
    if (folded !== null && foldedLinear !== null) return anchoredOnce(folded, '') ? new RegExp(folded) : foldedLinear
  }
  return new SandboxedRegex(source, flags)
}

/** How `boundedRegex` runs a pattern (for tests and the error log). */
export function regexEngineOf(re: BoundedRegex): 'backtracking-with-fallback' | 'linear' | 'sandboxed' {
  if (re instanceof SandboxedRegex) return 'sandboxed'
  return re.flags.includes('l') ? 'linear' : 'backtracking-with-fallback'
}
