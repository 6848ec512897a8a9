/**
 * Scale: a 10,000-route declarative file (1,000 services × 10 routes) loaded at a DB-less start
 * and applied again through `POST /config` while the gateway serves. Reports the times and the
 * memory of the primary (which holds the store) as test diagnostics:
 *
 *   npx tsc -p tsconfig.test.json && node --test --test-reporter=spec build/test/integration/declarative/scale.test.js
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { call, eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'

function generate(services: number, routesEach: number, port: number, tag: string): string {
  const lines = ['_format_version: "3.0"', 'services:']
  for (let s = 0; s < services; s++) {
    lines.push(`- name: svc-${s}`, `  url: http://127.0.0.1:${port}/${tag}${s}`, '  routes:')
    for (let r = 0; r < routesEach; r++)
      lines.push(`  - name: route-${s}-${r}`, `    paths: [/s${s}/r${r}]`, `    hosts: [h${s % 50}.example.test]`)
  }
  return `${lines.join('\n')}\n`
}

function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
}

describe('10,000 routes', () => {
  let upstream: TestUpstream
  let gw: TestGateway
  let dir: string
  let startMs = 0

  before(async () => {
    upstream = await startUpstream()
    dir = mkdtempSync(join(tmpdir(), 'turnpike-scale-'))
    writeFileSync(join(dir, 'kong.yml'), generate(1000, 10, upstream.port, 'a'))
    const t0 = performance.now()
    gw = await startTestGateway({ workers: 1, settings: { database: 'off', declarative_config: join(dir, 'kong.yml') } })
    startMs = performance.now() - t0
  })
  after(async () => {
    await gw?.stop()
    await upstream?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('DB-less start from the file, then POST /config of another 10,000-route file under traffic', async (t) => {
    const loaded = /loaded declarative config .*: (\d+) entities in (\d+) ms/.exec(gw.errorLog())
    assert.ok(loaded, 'the load is logged')
    assert.equal(loaded[1], '11000')
    await eventually(
      async () => (await call('GET', `${gw.proxyUrl}/s999/r9/x`, undefined, { host: 'h49.example.test' })).status === 200,
      20_000,
      'the last route',
    )
    const status = await call('GET', `${gw.adminUrl}/`)
    const primaryPid = status.body.pids.master as number
    const workerPid = (status.body.pids.workers as number[])[0] as number
    t.diagnostic(
      `start (process spawn to listening): ${startMs.toFixed(0)} ms; parse+validate+store: ${loaded[2]} ms; RSS primary ${(rssKb(primaryPid) / 1024).toFixed(0)} MiB, worker ${(rssKb(workerPid) / 1024).toFixed(0)} MiB`,
    )

    const second = generate(1000, 10, upstream.port, 'b')
    let failures = 0
    let stop = false
    const traffic = (async () => {
      for (let n = 0; n < 100_000 && !stop; n++) {
        const res = await call('GET', `${gw.proxyUrl}/s500/r5/x`, undefined, { host: 'h0.example.test' })
        if (res.status !== 200) failures++
      }
    })()
    const t0 = performance.now()
    const res = await call('POST', `${gw.adminUrl}/config`, second, { 'content-type': 'text/yaml' })
    const postMs = performance.now() - t0
    assert.equal(res.status, 201)
    await eventually(
      async () => (await call('GET', `${gw.proxyUrl}/s500/r5/x`, undefined, { host: 'h0.example.test' })).body?.url === '/b500/x',
      20_000,
      'the new config live',
    )
    const liveMs = performance.now() - t0
    stop = true
    await traffic
    assert.equal(failures, 0)
    t.diagnostic(
      `POST /config 10,000 routes: 201 after ${postMs.toFixed(0)} ms, live on the worker after ${liveMs.toFixed(0)} ms; RSS primary ${(rssKb(primaryPid) / 1024).toFixed(0)} MiB, worker ${(rssKb(workerPid) / 1024).toFixed(0)} MiB; failed requests during the swap: ${failures}`,
    )
  })
})
