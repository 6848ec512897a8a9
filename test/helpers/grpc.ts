/**
 * A real gRPC server and client for tests, from @grpc/grpc-js: a tiny `tp.Echo` service (unary,
 * server streaming, an error status on request) loaded from a .proto written into a temp dir.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import type { TestCert } from './certs.js'

const PROTO = `syntax = "proto3";
package tp;
service Echo {
  rpc Unary (Msg) returns (Msg);
  rpc Stream (Msg) returns (stream Msg);
}
message Msg {
  string text = 1;
  int32 n = 2;
  map<string, string> seen = 3;
}
`

export interface Msg {
  text: string
  n: number
  seen?: Record<string, string>
}

/** The metadata the server reports back (what the gateway forwarded). */
const REPORTED = ['x-test', 'x-forwarded-proto', 'x-forwarded-host', 'via', 'x-real-ip']

export type EchoClient = grpc.Client & {
  Unary(m: Partial<Msg>, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res?: Msg) => void): grpc.ClientUnaryCall
  Stream(m: Partial<Msg>, md?: grpc.Metadata): grpc.ClientReadableStream<Msg>
}

export interface GrpcServer {
  readonly port: number
  /** Calls the server answered. */
  readonly calls: () => number
  stop(): Promise<void>
}

let cached: { pkg: grpc.GrpcObject; dir: string } | null = null

/** The loaded `tp` package (the .proto is written once per process). */
function echoPackage(): grpc.GrpcObject {
  if (cached !== null) return cached.pkg
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-proto-'))
  const file = join(dir, 'echo.proto')
  writeFileSync(file, PROTO)
  const def = protoLoader.loadSync(file, { keepCase: true, longs: Number, defaults: true })
  const pkg = grpc.loadPackageDefinition(def)
  rmSync(dir, { recursive: true, force: true })
  cached = { pkg, dir }
  return pkg
}

function echoService(): grpc.ServiceClientConstructor {
  return (echoPackage()['tp'] as grpc.GrpcObject)['Echo'] as grpc.ServiceClientConstructor
}

/**
 * Starts the Echo server on 127.0.0.1 (TLS with `cert`; with `clientCa`, only clients presenting
 * a certificate that CA issued are served). Unary echoes the text with the metadata
 * it received; text `notfound` fails with NOT_FOUND; Stream sends `n` messages.
 */
export async function startGrpcServer(cert?: TestCert, clientCa?: string): Promise<GrpcServer> {
  const server = new grpc.Server()
  let calls = 0
  const seen = (md: grpc.Metadata, call: { getPath?: () => string; getHost?: () => string }): Record<string, string> => {
    const out: Record<string, string> = {}
    for (const k of REPORTED) {
      const v = md.get(k)
      if (v.length > 0) out[k] = v.map(String).join(',')
    }
    if (call.getPath !== undefined) out[':path'] = call.getPath()
    if (call.getHost !== undefined) out[':authority'] = call.getHost()
    return out
  }
  server.addService(echoService().service, {
    Unary: (call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
      calls++
      if (call.request.text === 'notfound') {
        cb({ code: grpc.status.NOT_FOUND, details: 'no such thing here' })
        return
      }
      const md = new grpc.Metadata()
      md.set('x-served-by', 'grpc-js')
      call.sendMetadata(md)
      cb(null, { text: `echo: ${call.request.text}`, n: call.request.n, seen: seen(call.metadata, call) })
    },
    Stream: (call: grpc.ServerWritableStream<Msg, Msg>) => {
      calls++
      for (let i = 0; i < call.request.n; i++) call.write({ text: `${call.request.text} ${i}`, n: i })
      call.end()
    },
  })
  const creds =
    cert === undefined
      ? grpc.ServerCredentials.createInsecure()
      : grpc.ServerCredentials.createSsl(
          clientCa === undefined ? null : Buffer.from(clientCa),
          [{ cert_chain: Buffer.from(cert.cert), private_key: Buffer.from(cert.key) }],
          // With a CA: a client certificate it issued is required (mutual TLS).
          clientCa !== undefined,
        )
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', creds, (err, p) => (err !== null ? reject(err) : resolve(p))),
  )
  return {
    port,
    calls: () => calls,
    stop: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve())
        setTimeout(() => server.forceShutdown(), 500).unref()
      }),
  }
}

export interface ClientOptions {
  /** The :authority sent (the route's host). */
  readonly authority?: string
  /** TLS to the gateway (its certificate is not verified: any certificate is taken). */
  readonly tls?: boolean
}

/** An Echo client for the gateway at 127.0.0.1:`port` (h2c, or h2 over TLS). */
export function echoClient(port: number, opts: ClientOptions = {}): EchoClient {
  const creds =
    opts.tls === true
      ? grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: false, checkServerIdentity: () => undefined })
      : grpc.credentials.createInsecure()
  const options: grpc.ClientOptions = opts.authority !== undefined ? { 'grpc.default_authority': opts.authority } : {}
  return new (echoService())(`127.0.0.1:${port}`, creds, options) as unknown as EchoClient
}

/** One unary call; resolves with the answer or the error status, and the response metadata. */
export function unary(
  client: EchoClient,
  m: Partial<Msg>,
  md = new grpc.Metadata(),
): Promise<{ err: grpc.ServiceError | null; res: Msg | undefined; headers: grpc.Metadata | null }> {
  return new Promise((resolve) => {
    let headers: grpc.Metadata | null = null
    const call = client.Unary(m, md, (err, res) => resolve({ err, res, headers }))
    call.on('metadata', (h: grpc.Metadata) => (headers = h))
  })
}

/** A server-streaming call, collected. */
export function collect(client: EchoClient, m: Partial<Msg>): Promise<{ messages: Msg[]; err: grpc.ServiceError | null }> {
  return new Promise((resolve) => {
    const messages: Msg[] = []
    const call = client.Stream(m)
    call.on('data', (x: Msg) => messages.push(x))
    call.on('error', (err: grpc.ServiceError) => resolve({ messages, err }))
    call.on('end', () => resolve({ messages, err: null }))
  })
}

/** A unary call to any method path with raw bytes (no .proto needed): the status the client saw. */
export function rawUnary(port: number, path: string, authority: string): Promise<grpc.ServiceError | null> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': authority })
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      (err) => {
        client.close()
        resolve(err)
      },
    )
  })
}

export { grpc }
