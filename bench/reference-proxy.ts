/**
 * The minimal reference proxy: node:http server + one undici Pool, no features at all. It is the
 * ceiling of the platform that Turnpike's throughput is compared with. It uses `pool.dispatch`,
 * undici's lowest-level API (no Readable stream per response, no promise): each response chunk
 * goes straight to `res.write`, with backpressure. Usage (env): PORT, UPSTREAM (http://host:port),
 * WORKERS (processes sharing the port through node:cluster, default 1).
 */
import cluster from 'node:cluster'
import { createServer } from 'node:http'
import { Pool, type Dispatcher } from 'undici'

const workers = Number(process.env['WORKERS'] ?? '1')
// A clean exit on SIGTERM lets `--cpu-prof` write its profile (bench --profile).
process.once('SIGTERM', () => process.exit(0))
if (cluster.isPrimary && workers > 1) {
  for (let i = 0; i < workers; i++) cluster.fork()
} else {
  const pool = new Pool(process.env['UPSTREAM'] ?? 'http://127.0.0.1:8080', { pipelining: 1 })
  createServer((req, res) => {
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart() {},
      onResponseStart(ctl, status, headers) {
        res.writeHead(status, headers as Record<string, string | string[]>)
        res.on('drain', () => ctl.resume())
      },
      onResponseData(ctl, chunk) {
        if (!res.write(chunk)) ctl.pause()
      },
      onResponseEnd() {
        res.end()
      },
      onResponseError(_ctl, err) {
        if (res.headersSent) res.destroy(err)
        else res.writeHead(502).end()
      },
    }
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined
    pool.dispatch(
      {
        method: req.method as Dispatcher.HttpMethod,
        path: req.url ?? '/',
        headers: req.headers as Record<string, string>,
        body: hasBody ? req : null,
      },
      handler,
    )
  }).listen(Number(process.env['PORT'] ?? '8000'), '127.0.0.1', () => process.send?.('listening'))
}
