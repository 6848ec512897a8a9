/** The routes of the routes-10k scenario (prefix and regex mixed) and the request paths that hit them. Pure. */

/** Route bodies for `POST /services/<s>/routes`: even indexes are prefix routes, odd ones regex routes. */
export function benchRoutes(n: number): Array<{ name: string; paths: string[] }> {
  const out: Array<{ name: string; paths: string[] }> = []
  for (let i = 0; i < n; i++) out.push({ name: `r${i}`, paths: [i % 2 === 0 ? `/p${i}/` : `~/r${i}/\\d+$`] })
  return out
}

/** `count` request paths spread evenly over the n routes, alternating prefix and regex routes. */
export function benchPaths(n: number, count = 200): string[] {
  const out: string[] = []
  const c = Math.min(count, n)
  for (let k = 0; k < c; k++) {
    let i = Math.floor((k * n) / c)
    if (i % 2 !== k % 2) i = i + 1 < n ? i + 1 : i - 1
    out.push(i % 2 === 0 ? `/p${i}/items` : `/r${i}/42`)
  }
  return out
}
