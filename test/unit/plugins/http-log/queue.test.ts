/** Kong 3.9 queue semantics: batching, coalescing delay, bounded size, retries with backoff. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Queue, type QueueConfig } from '../../../../src/plugins/http-log/queue.js'
import { payload } from '../../../../src/plugins/http-log/index.js'

const conf = (over: Partial<QueueConfig> = {}): QueueConfig => ({
  max_batch_size: 1,
  max_coalescing_delay: 1,
  max_entries: 10000,
  max_bytes: null,
  max_retry_time: 60,
  initial_retry_delay: 0.01,
  max_retry_delay: 60,
  concurrency_limit: 1,
  ...over,
})
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms))
const logs = () => {
  const lines: string[] = []
  return { lines, log: { warn: (m: string) => lines.push(`warn ${m}`), err: (m: string) => lines.push(`err ${m}`) } }
}

describe('http-log queue', () => {
  test('a full batch goes out at once; a partial one after max_coalescing_delay', async () => {
    const batches: number[][] = []
    const q = new Queue<number>(
      'q',
      conf({ max_batch_size: 3, max_coalescing_delay: 0.2 }),
      async (b) => (batches.push([...b]), true),
      logs().log,
    )
    for (const n of [1, 2, 3, 4]) q.enqueue(n)
    await wait(50)
    assert.deepEqual(batches, [[1, 2, 3]])
    await wait(300)
    assert.deepEqual(batches, [[1, 2, 3], [4]])
  })

  test('full queue: the oldest entries are dropped, one warning', async () => {
    const l = logs()
    let release: () => void = () => {}
    const seen: number[] = []
    const q = new Queue<number>(
      'q',
      conf({ max_entries: 3, max_coalescing_delay: 0 }),
      async (b) => {
        seen.push(...b)
        await new Promise<void>((r) => (release = r))
        return true
      },
      l.log,
    )
    for (let i = 1; i <= 6; i++) q.enqueue(i)
    await wait(20)
    assert.equal(q.dropped, 2)
    assert.equal(l.lines.filter((x) => x.includes('queue full, dropping old entries')).length, 1)
    for (let i = 0; i < 5; i++) {
      release()
      await wait(10)
    }
    assert.deepEqual(seen, [1, 4, 5, 6])
  })

  test('retries with exponential backoff until accepted; gives up after max_retry_time', async () => {
    const l = logs()
    const times: number[] = []
    const q = new Queue<number>(
      'q',
      conf({ initial_retry_delay: 0.02, max_retry_delay: 0.05, max_retry_time: 0.15, max_coalescing_delay: 0 }),
      async () => (times.push(Date.now()), 'boom'),
      l.log,
    )
    q.enqueue(1)
    await wait(400)
    assert.ok(times.length >= 3 && times.length <= 8, `${times.length} attempts`)
    assert.ok(l.lines.some((x) => x === 'warn queue q: handler could not process entries: boom'))
    assert.ok(l.lines.some((x) => x === 'err queue q: could not send entries due to max_retry_time exceeded. 1 queue entries were lost'))
    assert.equal(q.dropped, 1)
  })

  test('concurrency_limit -1: every entry is sent on its own, at once', async () => {
    const batches: number[][] = []
    const q = new Queue<number>(
      'q',
      conf({ concurrency_limit: -1, max_batch_size: 10 }),
      async (b) => (batches.push([...b]), true),
      logs().log,
    )
    q.enqueue(1)
    q.enqueue(2)
    await wait(10)
    assert.deepEqual(batches, [[1], [2]])
  })

  test('payload: one object for max_batch_size 1, else an array', () => {
    assert.equal(payload([{ a: 1 }], 1), '{"a":1}')
    assert.equal(payload([{ a: 1 }], 5), '[{"a":1}]')
  })
})
