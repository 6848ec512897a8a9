/**
 * Byte counts formatted as Kong's `/status` memory section prints them (`?unit=` b, k, m, g
 * and `?scale=` decimals; default MiB with 2 decimals: `"12.34 MiB"`).
 *
 * @module
 */
import { badRequest } from './errors.js'

const UNITS: Readonly<Record<string, [number, string]>> = { k: [2 ** 10, 'KiB'], m: [2 ** 20, 'MiB'], g: [2 ** 30, 'GiB'] }

/** A formatter for the given `unit` and `scale` query values; throws 400 on bad ones. */
export function byteFormatter(unit: string | null, scale: string | null): (bytes: number) => string | number {
  const u = (unit ?? 'm').toLowerCase()
  let decimals = 2
  if (scale !== null) {
    decimals = Number(scale)
    if (!Number.isInteger(decimals) || decimals < 0 || decimals > 20) throw badRequest('scale must be equal or greater than 0')
  }
  if (u === 'b' || u === '') return (bytes) => Math.round(bytes)
  const spec = UNITS[u]
  if (spec === undefined) throw badRequest(`invalid unit '${unit ?? ''}' (expected 'k/K', 'm/M', or 'g/G')`)
  return (bytes) => `${(bytes / spec[0]).toFixed(decimals)} ${spec[1]}`
}
