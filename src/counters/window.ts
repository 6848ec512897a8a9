/**
 * Rate-limiting windows, as Kong's `kong.tools.timestamp.get_timestamps`: fixed, calendar-aligned
 * UTC windows per period (the second, minute, hour, day, month and year that contain `now`).
 *
 * @module
 */

export const PERIODS = ['second', 'minute', 'hour', 'day', 'month', 'year'] as const
export type Period = (typeof PERIODS)[number]

/** Kong's `expiration.lua`: the nominal length of each period in seconds (used for `RateLimit-Reset`). */
export const EXPIRATION: Readonly<Record<Period, number>> = {
  second: 1,
  minute: 60,
  hour: 3600,
  day: 86400,
  month: 2592000,
  year: 31536000,
}

/** A window: `[start, end)` in epoch milliseconds. */
export interface Window {
  readonly start: number
  readonly end: number
}

/** The window of `period` that contains `now` (ms). */
export function windowOf(period: Period, now: number): Window {
  switch (period) {
    case 'second': {
      const start = now - (now % 1000)
      return { start, end: start + 1000 }
    }
    case 'minute': {
      const start = now - (now % 60_000)
      return { start, end: start + 60_000 }
    }
    case 'hour': {
      const start = now - (now % 3_600_000)
      return { start, end: start + 3_600_000 }
    }
    case 'day': {
      const start = now - (now % 86_400_000)
      return { start, end: start + 86_400_000 }
    }
    case 'month': {
      const d = new Date(now)
      const y = d.getUTCFullYear()
      const m = d.getUTCMonth()
      return { start: Date.UTC(y, m, 1), end: Date.UTC(y, m + 1, 1) }
    }
    case 'year': {
      const y = new Date(now).getUTCFullYear()
      return { start: Date.UTC(y, 0, 1), end: Date.UTC(y + 1, 0, 1) }
    }
  }
}

/** The window just before `w` (same period). */
export function previousWindow(period: Period, w: Window): Window {
  return windowOf(period, w.start - 1)
}

/**
 * The sliding-window estimate's weight of the previous window at `now` (Kong Enterprise's
 * `window_type = sliding`): the share of the previous window still inside a window-long span
 * ending now.
 */
export function previousWeight(w: Window, now: number): number {
  const size = w.end - w.start
  const elapsed = Math.min(Math.max(now - w.start, 0), size)
  return (size - elapsed) / size
}

/**
 * How many more hits a window allows: `limit - current` for a fixed window; for a sliding
 * window `floor(limit - previous * weight) - current`, which only grows as time passes within the
 * window (so tokens handed out earlier stay valid).
 */
export function allowance(limit: number, current: number, previous: number | null, weight: number): number {
  if (previous === null) return limit - current
  return Math.floor(limit - previous * weight + 1e-9) - current
}

/** Kong's `RateLimit-Reset` for a period: seconds until its nominal window ends, at least 1. */
export function resetSeconds(period: Period, now: number): number {
  const start = windowOf(period, now).start
  return Math.max(1, EXPIRATION[period] - Math.floor((now - start) / 1000))
}
