/**
 * fast-gateway (npm) with one route forwarding everything to the upstream: the best-known Node
 * gateway, as its README configures it. Env: PORT, UPSTREAM (http://host:port).
 */
import gateway from 'fast-gateway'

const server = gateway({ routes: [{ prefix: '', target: process.env['UPSTREAM'] ?? 'http://127.0.0.1:8080' }] })
await server.start(Number(process.env['PORT'] ?? '8000'), '127.0.0.1')
console.log('listening')
