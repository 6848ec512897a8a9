/**
 * Kong's `random_string()` (`kong/tools/rand.lua`): 24 random bytes in base64 (32 characters),
 * with `/`, `+` and `=` each replaced by one random digit, upper-case or lower-case letter.
 * Used for generated key-auth keys and jwt keys/secrets, so they look like Kong's.
 *
 * @module
 */
import { randomBytes, randomInt } from 'node:crypto'

export function randomString(): string {
  const digit = String.fromCharCode(randomInt(48, 58))
  const upper = String.fromCharCode(randomInt(65, 91))
  const lower = String.fromCharCode(randomInt(97, 123))
  return randomBytes(24).toString('base64').replaceAll('/', digit).replaceAll('+', upper).replaceAll('=', lower)
}
