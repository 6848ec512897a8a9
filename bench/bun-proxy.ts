/**
 * The minimal Bun-native proxy: `Bun.serve` + `fetch`, no features; the anchor for a faster runtime.
 * Run with Bun (the npm package `bun`): env PORT, UPSTREAM (http://host:port).
 */
interface BunServeOptions {
  hostname: string
  port: number
  fetch(req: Request): Response | Promise<Response>
}
declare const Bun: { serve(options: BunServeOptions): { port: number } }

const upstream = process.env['UPSTREAM'] ?? 'http://127.0.0.1:8080'
Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.env['PORT'] ?? '8000'),
  fetch(req) {
    const url = new URL(req.url)
    const init: RequestInit & { decompress: boolean } = { method: req.method, headers: req.headers, body: req.body, decompress: false }
    return fetch(upstream + url.pathname + url.search, init)
  },
})
console.log('listening')
