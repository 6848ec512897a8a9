/**
 * http-log's sender without its init: the plugin holds no HTTP client of its own (it gets the
 * node's in `PluginInitContext.http`), so a batch sent before `init` fails with a reason and
 * never reaches the network.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { prepareHttpLog, sendBatch } from '../../../../src/plugins/http-log/index.js'
import type { HttpLogConfig } from '../../../../src/plugins/http-log/schema.js'

test('a batch sent before init fails, naming the missing init context client', async () => {
  const conf = {
    http_endpoint: 'http://127.0.0.1:9/log',
    queue: {},
    method: 'POST',
    content_type: 'application/json',
    timeout: 1000,
    keepalive: 1000,
  } as unknown as HttpLogConfig
  const p = prepareHttpLog(conf, { id: 'i1' })
  assert.equal(
    await sendBatch(p, [{ a: 1 }]),
    'failed request to 127.0.0.1:9: no outbound HTTP client: the plugin was not initialised (PluginInitContext.http)',
  )
})
