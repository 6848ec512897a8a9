/**
 * Who accepts proxy connections: a single worker accepts its own from the shared listening socket;
 * with several workers the primary accepts and hands them out round-robin (even spread). Either
 * way clients that open a connection per request (no keep-alive) are all served.
 */
import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { after, before, describe, test } from 'node:test'
import { call, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'

/** One request on a new connection (`Connection: close`); resolves to the status and body. */
function once(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

for (const [workers, mode] of [[1, 'the worker accepts connections itself'], [2, 'the primary hands connections to workers round-robin']] as const) {
  describe(`${workers} worker${workers === 1 ? '' : 's'}`, () => {
    let gw: TestGateway
    let up: TestUpstream
    before(async () => {
      up = await startUpstream()
      gw = await startTestGateway({ workers, proxyListenFlags: 'reuseport backlog=16384' })
      assert.equal((await call('POST', `${gw.adminUrl}/services`, { name: 's', url: up.url })).status, 201)
      assert.equal((await call('POST', `${gw.adminUrl}/services/s/routes`, { name: 'r', paths: ['/'] })).status, 201)
      await gw.waitForLog(/started/)
    })
    after(async () => {
      await gw.stop()
      await up.close()
    })

    test(`the start line says it: ${mode}`, () => {
      assert.match(gw.errorLog(), new RegExp(`started: ${workers} workers? \\(${mode}\\)`))
    })

    test('60 requests, each on its own connection, 30 at a time: all answered', async () => {
      const results: { status: number; body: string }[] = []
      for (let round = 0; round < 2; round++) {
        results.push(...(await Promise.all(Array.from({ length: 30 }, () => once(`${gw.proxyUrl}/x`)))))
      }
      // The echo upstream answers with the request it got.
      assert.deepEqual(results.map((r) => `${r.status} ${(JSON.parse(r.body) as { url: string }).url}`), Array(60).fill('200 /x'))
    })
  })
}
