/**
 * Turns on V8's linear-time regexp engine for this process. Imported first by the CLI entry
 * point and by the worker entry point, so that every RegExp created afterwards (our own literals
 * included) gets it:
 *
 * - `--enable-experimental-regexp-engine` makes the `l` flag available: a regex compiled with it
 *   runs in time linear in the input, and compiling with it tells whether a regex can run so
 *   (no backreferences, no lookarounds; on older V8 not with `i` or `u` either).
 * - `--enable-experimental-regexp-engine-on-excessive-backtracks` makes a backtracking regex that
 *   the linear engine supports switch to it once it has backtracked
 *   `--regexp-backtracks-before-fallback` times (V8's default, 50,000): a catastrophic pattern
 *   costs at most that many steps plus a linear pass.
 *
 * Both are read when a RegExp is created, so setting them at run time works; an unknown flag
 * (a future V8 without them) is ignored by `setFlagsFromString`, and `linearEngineAvailable`
 * then says so.
 *
 * @module
 */
import { setFlagsFromString } from 'node:v8'

setFlagsFromString('--enable-experimental-regexp-engine')
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks')

function probe(): boolean {
  try {
    new RegExp('a', 'l')
    return true
  } catch {
    return false
  }
}

/** Whether the `l` (linear) flag works in this process. */
export const linearEngineAvailable: boolean = probe()
