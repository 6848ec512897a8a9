/**
 * HTTP dates as nginx reads them (`ngx_parse_http_time`, which Kong's `ngx.parse_http_time`
 * calls): the three forms of RFC 9110 — `Sun, 06 Nov 1994 08:49:37 GMT` (IMF-fixdate),
 * `Sunday, 06-Nov-94 08:49:37 GMT` (RFC 850) and `Sun Nov  6 08:49:37 1994` (asctime) — with
 * nginx's leniency kept, so that a value Kong accepts is accepted here and one it refuses is
 * refused: the weekday is not checked, a month is recognised by the letters nginx looks at,
 * nothing after the time (or the asctime year) is read, and a day is checked against its month.
 *
 * @module
 */

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c.length === 1 && c >= '0' && c <= '9'
}

/** The number written by `n` digits at `at`, or -1 when one of them is not a digit. */
function digits(s: string, at: number, n: number): number {
  let v = 0
  for (let i = 0; i < n; i++) {
    const c = s[at + i]
    if (!isDigit(c)) return -1
    v = v * 10 + (c as string).charCodeAt(0) - 48
  }
  return v
}

/** The month (0-11) from the first letters of its name, as nginx tells them apart; -1 if none. */
function monthAt(s: string, at: number): number {
  switch (s[at]) {
    case 'J':
      return s[at + 1] === 'a' ? 0 : s[at + 2] === 'n' ? 5 : 6
    case 'F':
      return 1
    case 'M':
      return s[at + 2] === 'r' ? 2 : 4
    case 'A':
      return s[at + 1] === 'p' ? 3 : 7
    case 'S':
      return 8
    case 'O':
      return 9
    case 'N':
      return 10
    case 'D':
      return 11
    default:
      return -1
  }
}

/** Days from 1970-01-01 to a proleptic Gregorian date (`month` 0-11; `day` 0 is the day before the 1st). */
function daysFromEpoch(year: number, month: number, day: number): number {
  const y = month < 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const mp = (month + 10) % 12
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

/**
 * Seconds since the epoch written by an HTTP date, or null when nginx would refuse it (Kong's
 * `ngx.parse_http_time` returning nil).
 */
export function parseHttpTime(value: string): number | null {
  const end = value.length
  // The weekday runs to a comma (IMF-fixdate, RFC 850) or a space (asctime).
  let p = 0
  let asctime = false
  while (p < end && value[p] !== ',' && value[p] !== ' ') p++
  if (value[p] === ' ') asctime = true
  p++
  while (p < end && value[p] === ' ') p++
  if (end - p < 18) return null

  let day = 0
  let rfc850 = false
  if (!asctime) {
    day = digits(value, p, 2)
    if (day < 0) return null
    p += 2
    if (value[p] === '-') rfc850 = true
    else if (value[p] !== ' ' || end - p < 18) return null
    p++
  }
  const month = monthAt(value, p)
  if (month < 0) return null
  p += 3
  if (!asctime && value[p] !== (rfc850 ? '-' : ' ')) return null
  p++

  let year = 0
  if (asctime) {
    if (value[p] === ' ') p++
    if (!isDigit(value[p])) return null
    day = digits(value, p, 1)
    p++
    if (value[p] !== ' ') {
      if (!isDigit(value[p])) return null
      day = day * 10 + digits(value, p, 1)
      p++
    }
    if (end - p < 14) return null
  } else if (rfc850) {
    year = digits(value, p, 2)
    if (year < 0) return null
    year += year < 70 ? 2000 : 1900
    p += 2
  } else {
    year = digits(value, p, 4)
    if (year < 0) return null
    p += 4
  }

  if (value[p] !== ' ') return null
  const hour = digits(value, p + 1, 2)
  if (hour < 0 || value[p + 3] !== ':') return null
  const min = digits(value, p + 4, 2)
  if (min < 0 || value[p + 6] !== ':') return null
  const sec = digits(value, p + 7, 2)
  if (sec < 0) return null
  if (asctime) {
    if (value[p + 9] !== ' ') return null
    year = digits(value, p + 10, 4)
    if (year < 0) return null
  }

  if (hour > 23 || min > 59 || sec > 59) return null
  if (day === 29 && month === 1) {
    const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
    if (!leap) return null
  } else if (day > (DAYS_IN_MONTH[month] as number)) return null

  return daysFromEpoch(year, month, day) * 86400 + hour * 3600 + min * 60 + sec
}
