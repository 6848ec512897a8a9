/**
 * Self-signed certificates, CAs and expired certificates for tests, made with the openssl CLI
 * (node:crypto cannot issue certificates) in a throwaway directory.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TestCert {
  readonly cert: string
  readonly key: string
}

export interface CertOptions {
  /** `rsa` (2048 bits, default) or `ec` (P-256). */
  readonly type?: 'rsa' | 'ec'
  readonly cn?: string
  /** basicConstraints CA:TRUE. */
  readonly ca?: boolean
  /** Issued already expired (notAfter yesterday). */
  readonly expired?: boolean
}

/** A new self-signed certificate and its private key (PEM). */
export function makeCert(opts: CertOptions = {}): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-cert-'))
  try {
    const key = join(dir, 'key.pem')
    const cert = join(dir, 'cert.pem')
    const newkey = opts.type === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'] : ['-newkey', 'rsa:2048']
    const subj = ['-subj', `/CN=${opts.cn ?? 'test.example.com'}`]
    const ext = ['-addext', `basicConstraints=critical,CA:${opts.ca === true ? 'TRUE' : 'FALSE'}`]
    if (opts.expired === true) {
      // `openssl req -x509` cannot back-date; a CSR signed with -days -1 ends yesterday.
      const csr = join(dir, 'req.csr')
      execFileSync('openssl', ['req', '-new', ...newkey, '-nodes', '-keyout', key, '-out', csr, ...subj], { stdio: 'ignore' })
      execFileSync('openssl', ['x509', '-req', '-in', csr, '-signkey', key, '-days', '-1', '-out', cert], { stdio: 'ignore' })
    } else {
      execFileSync('openssl', ['req', '-x509', ...newkey, '-nodes', '-keyout', key, '-out', cert, '-days', '30', ...subj, ...ext], {
        stdio: 'ignore',
      })
    }
    return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export interface IssueOptions {
  readonly cn?: string
  /** subjectAltName, e.g. `IP:127.0.0.1,DNS:localhost`. */
  readonly san?: string
  /** Issued already expired (notAfter yesterday). */
  readonly expired?: boolean
  /** basicConstraints CA:TRUE (an intermediate CA). */
  readonly ca?: boolean
}

/** A certificate (RSA 2048) issued by `ca` (a `makeCert({ ca: true })`), for chains a client verifies. */
export function issueCert(ca: TestCert, opts: IssueOptions = {}): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-cert-'))
  try {
    const f = (name: string): string => join(dir, name)
    writeFileSync(f('ca.pem'), ca.cert)
    writeFileSync(f('ca.key'), ca.key)
    writeFileSync(
      f('ext.cnf'),
      `basicConstraints=critical,CA:${opts.ca === true ? 'TRUE' : 'FALSE'}\n${opts.san !== undefined ? `subjectAltName=${opts.san}\n` : ''}`,
    )
    const subj = ['-subj', `/CN=${opts.cn ?? 'test.example.com'}`]
    execFileSync('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('key.pem'), '-out', f('req.csr'), ...subj], {
      stdio: 'ignore',
    })
    const days = opts.expired === true ? '-1' : '30'
    execFileSync(
      'openssl',
      [
        'x509',
        '-req',
        '-in',
        f('req.csr'),
        '-CA',
        f('ca.pem'),
        '-CAkey',
        f('ca.key'),
        '-CAcreateserial',
        '-days',
        days,
        '-extfile',
        f('ext.cnf'),
        '-out',
        f('cert.pem'),
      ],
      { stdio: 'ignore' },
    )
    return { cert: readFileSync(f('cert.pem'), 'utf8'), key: readFileSync(f('key.pem'), 'utf8') }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
