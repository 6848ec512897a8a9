// nginx's own error pages (OpenResty's footer), sent as whole responses on a raw socket where no
// Kong error handler applies: the Admin API's server block (no error_page) and a plain HTTP request
// on a TLS port (nginx's 497, which Kong's error_page list does not name).

/** The plain HTTP request was sent to a TLS port: nginx's internal status 497, answered as a 400. */
export const PLAIN_HTTP_TO_TLS = 497

const NGINX_PAGES: Readonly<Record<number, { status: string; title: string; extra: string }>> = {
  400: { status: '400 Bad Request', title: '400 Bad Request', extra: '' },
  494: {
    status: '400 Bad Request',
    title: '400 Request Header Or Cookie Too Large',
    extra: '<center>Request Header Or Cookie Too Large</center>\r\n',
  },
  497: {
    status: '400 Bad Request',
    title: '400 The plain HTTP request was sent to HTTPS port',
    extra: '<center>The plain HTTP request was sent to HTTPS port</center>\r\n',
  },
}

/** The whole response (status line, headers, body) nginx sends for one of its own errors. */
export function nginxPage(code: 400 | 494 | 497): string {
  const p = NGINX_PAGES[code] as { status: string; title: string; extra: string }
  const h1 = code === 400 ? p.title : '400 Bad Request'
  const body = `<html>\r\n<head><title>${p.title}</title></head>\r\n<body>\r\n<center><h1>${h1}</h1></center>\r\n${p.extra}<hr><center>openresty</center>\r\n</body>\r\n</html>\r\n`
  return `HTTP/1.1 ${p.status}\r\nServer: openresty\r\nDate: ${new Date().toUTCString()}\r\nContent-Type: text/html\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`
}
