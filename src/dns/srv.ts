/**
 * SRV selection: the lowest priority group, weighted round-robin inside it (as Kong's DNS
 * client: weight 0 counts as 1 so such targets are rarely, not never, used).
 *
 * @module
 */
import type { DnsRecord } from './types.js'

interface WrrState {
  list: number[]
  next: number
}

const states = new WeakMap<readonly DnsRecord[], WrrState>()

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}

/** Index of the next SRV record to use from a (cached, immutable) record list. */
export function pickSrv(records: readonly DnsRecord[]): number {
  let state = states.get(records)
  if (state === undefined) {
    let top = Infinity
    for (const r of records) top = Math.min(top, r.priority ?? 0)
    const group = records.map((r, i) => ({ i, r })).filter(({ r }) => (r.priority ?? 0) === top)
    const weights = group.map(({ r }) => (r.weight === undefined || r.weight === 0 ? 1 : r.weight))
    const g = weights.reduce((a, b) => gcd(a, b))
    const list: number[] = []
    // Interleave so that consecutive picks spread over the targets (smooth weighted order).
    const current = group.map(() => 0)
    const total = weights.reduce((a, b) => a + b, 0) / g
    for (let n = 0; n < total && n < 10_000; n++) {
      let best = 0
      for (let k = 0; k < group.length; k++) {
        current[k] = (current[k] as number) + (weights[k] as number) / g
        if ((current[k] as number) > (current[best] as number)) best = k
      }
      current[best] = (current[best] as number) - total
      list.push((group[best] as { i: number }).i)
    }
    state = { list, next: 0 }
    states.set(records, state)
  }
  const idx = state.list[state.next % state.list.length] as number
  state.next = (state.next + 1) % state.list.length
  return idx
}
