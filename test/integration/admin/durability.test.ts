/**
 * Every acknowledged Admin API write survives a crash: kill -9 the whole gateway right after a
 * burst of concurrent writes, restart it on the same prefix, and find every entity that got a 201.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { call, startTestGateway } from '../../helpers/gateway.js'

test('kill -9 right after concurrent writes loses no acknowledged write', async () => {
  const prefix = mkdtempSync(join(tmpdir(), 'turnpike-durable-'))
  try {
    const gw = await startTestGateway({ prefix, workers: 2 })
    const acked: string[] = []
    let stop = false
    // 8 concurrent writers; the gateway is killed while they are still writing.
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; i < 200 && !stop; i++) {
        const name = `svc-${w}-${i}`
        try {
          const r = await call('POST', `${gw.adminUrl}/services`, { name, url: 'http://127.0.0.1:9/' })
          if (r.status === 201) acked.push(name)
        } catch {
          return // connection killed
        }
      }
    })
    while (acked.length < 60) await new Promise((r) => setTimeout(r, 5))
    await gw.kill()
    stop = true
    await Promise.all(writers)

    const again = await startTestGateway({ prefix, workers: 1 })
    try {
      const names = new Set<string>()
      let next: string | null = '/services?size=1000'
      while (next !== null) {
        const page = await call('GET', `${again.adminUrl}${next}`)
        assert.equal(page.status, 200)
        for (const s of page.body.data as { name: string }[]) names.add(s.name)
        next = page.body.next as string | null
      }
      const missing = acked.filter((n) => !names.has(n))
      assert.deepEqual(missing, [], `${missing.length} of ${acked.length} acknowledged writes lost`)
    } finally {
      await again.stop()
    }
  } finally {
    rmSync(prefix, { recursive: true, force: true })
  }
})
