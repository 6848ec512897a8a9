/** nginx configurations of the bench: the fixed upstream and nginx as a reverse proxy. Pure. */

/** The upstream's answer: exactly 100 bytes. */
export const UPSTREAM_BODY = 'turnpike bench upstream: a fixed 100-byte answer from nginx `return 200`, keep-alive, no logging.\n'
  .padEnd(100, '.')
  .slice(0, 100)

export const BODY_1M_PATH = '/1m'
export const BODY_1M_BYTES = 1024 * 1024

function common(dir: string, workers: number, runAsRoot: boolean): string {
  return `${runAsRoot ? 'user root;\n' : ''}worker_processes ${workers};
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; multi_accept on; }
`
}

function httpCommon(dir: string): string {
  return `  access_log off;
  client_body_temp_path ${dir}/tmp/client_body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
`
}

/** The fixed upstream: `return 200` with {@link UPSTREAM_BODY} on any path, and a 1 MB file at {@link BODY_1M_PATH}. */
export function upstreamConf(o: { dir: string; port: number; runAsRoot: boolean }): string {
  return `${common(o.dir, 1, o.runAsRoot)}http {
${httpCommon(o.dir)}  server {
    listen 127.0.0.1:${o.port} backlog=4096;
    location = ${BODY_1M_PATH} { default_type application/octet-stream; alias ${o.dir}/1m.bin; }
    location / { default_type text/plain; return 200 ${JSON.stringify(UPSTREAM_BODY)}; }
  }
}
`
}

/** PEM files a TLS listener serves. */
export interface TlsFiles {
  readonly cert: string
  readonly key: string
}

/**
 * The TLS part of a server block as Kong's template and defaults write it (`ssl_cipher_suite =
 * intermediate`: TLSv1.2 and TLSv1.3, the server's order off, `shared:SSL:10m`, tickets on, 1 day).
 */
function tlsServer(tls: TlsFiles): string {
  return `    ssl_certificate ${tls.cert};
    ssl_certificate_key ${tls.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers off;
    ssl_session_cache shared:SSL:10m;
    ssl_session_tickets on;
    ssl_session_timeout 1d;
`
}

/**
 * nginx as a reverse proxy to the upstream, with upstream keep-alive (what Kong runs on); with
 * `tls`, its listener terminates TLS.
 */
export function proxyConf(o: {
  dir: string
  port: number
  upstreamPort: number
  workers: number
  runAsRoot: boolean
  tls?: TlsFiles
}): string {
  return `${common(o.dir, o.workers, o.runAsRoot)}http {
${httpCommon(o.dir)}  upstream bench_upstream {
    server 127.0.0.1:${o.upstreamPort};
    keepalive 128;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${o.port}${o.tls !== undefined ? ' ssl' : ''} backlog=4096;
${o.tls !== undefined ? tlsServer(o.tls) : ''}    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`
}
