/**
 * Vaults (issue 16), against real gateways: the `/vaults` Admin API with Kong 3.9's answers
 * (`spec/02-integration/04-admin_api/19-vaults_spec.lua`), a certificate whose cert and key are
 * env vault references served on the TLS listener (and one whose variables are missing refused,
 * with the log line), an http-log plugin whose endpoint and header are references, and decK's
 * sync-012 vaults file loaded DB-less and through `turnpike config sync`, with its variables set in
 * the gateway's environment.
 */
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { connect, type PeerCertificate } from 'node:tls'
import { makeCert } from '../../helpers/certs.js'
import { runTurnpike } from '../../helpers/cli.js'
import { call, eventually, ROOT, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { freePort } from '../../helpers/ports.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'

const REAL =
  [join(ROOT, '..', 'shared', 'kong', 'realworld-configs'), '/work/shared/kong/realworld-configs'].find((d) => existsSync(d)) ??
  '/work/shared/kong/realworld-configs'
const SYNC_012 = join(REAL, 'Kong-deck__sync-012-vaults__kong3x.yaml')

/** A TLS handshake with a server name; resolves with the served certificate, rejects when refused. */
function handshake(port: number, servername: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const peer = socket.getPeerCertificate()
      socket.end()
      resolve(peer)
    })
    socket.on('error', reject)
  })
}

const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256

describe('vaults: Admin API, certificates and plugins with references', () => {
  let gw: TestGateway
  let tlsPort: number
  let proxyUrl: string
  let collector: TestUpstream
  let echo: TestUpstream
  const pair = makeCert({ cn: 'vault.test' })

  before(async () => {
    ;[collector, echo] = await Promise.all([startUpstream(), startUpstream()])
    const [plain, tls] = [await freePort(), await freePort()]
    tlsPort = tls
    proxyUrl = `http://127.0.0.1:${plain}`
    gw = await startTestGateway({
      settings: { proxy_listen: `127.0.0.1:${plain}, 127.0.0.1:${tls} ssl` },
      env: {
        VT_CERT: pair.cert,
        VT_KEY: pair.key,
        LOG_URL: `${collector.url}/log`,
        LOG_SECRETS: JSON.stringify({ token: 'abc123', other: 'x' }),
      },
    })
  })
  after(async () => {
    await gw.stop()
    await Promise.all([collector.close(), echo.close()])
  })

  test("/vaults CRUD by id and prefix, with Kong's errors", async () => {
    const a = gw.adminUrl
    const created = await call('PUT', `${a}/vaults/env-1`, { name: 'env' })
    assert.equal(created.status, 200, created.text)
    assert.equal(created.body.prefix, 'env-1')
    assert.deepEqual(created.body.config, { prefix: null })
    assert.deepEqual((await call('GET', `${a}/vaults/${String(created.body.id)}`)).body, created.body)
    assert.deepEqual((await call('GET', `${a}/vaults/env-1`)).body, created.body)
    assert.equal((await call('GET', `${a}/vaults/not-found`)).status, 404)
    const patched = await call('PATCH', `${a}/vaults/env-1`, { config: { prefix: 'CERT_' } })
    assert.equal(patched.status, 200, patched.text)
    assert.equal(patched.body.config.prefix, 'CERT_')
    assert.equal((await call('PUT', `${a}/vaults/put-env-prefix`, { name: 'env', config: { prefix: 'secrets-' } })).status, 200)

    const reserved = await call('PUT', `${a}/vaults/f4aecadc-05c7-11e6-8d41-1f3b3d5fa15c`, { name: 'env', prefix: 'env' })
    assert.equal(reserved.status, 400)
    assert.deepEqual(reserved.body, {
      name: 'schema violation',
      code: 2,
      message: 'schema violation (prefix: must not be one of: env)',
      fields: { prefix: 'must not be one of: env' },
    })
    const byPrefix = await call('PUT', `${a}/vaults/env`, { name: 'env' })
    assert.equal(byPrefix.status, 400)
    assert.deepEqual(byPrefix.body, { name: 'invalid unique prefix', code: 10, message: 'must not be one of: env' })
    // the same rule for every entity's endpoint key (Kong's DAO)
    const badName = await call('GET', `${a}/services/${encodeURIComponent('not a name!')}`)
    assert.deepEqual([badName.status, badName.body.code, badName.body.name], [400, 10, 'invalid unique name'])
    const enterprise = await call('POST', `${a}/vaults`, { name: 'hcv', prefix: 'my-hcv' })
    assert.equal(enterprise.status, 400)
    assert.deepEqual(enterprise.body.fields, { name: "vault 'hcv' is not installed" })
    const badConfig = await call('POST', `${a}/vaults`, { name: 'env', prefix: 'bad-config', config: { prefix: '9X' } })
    assert.deepEqual(badConfig.body.fields, { config: { prefix: 'invalid value: 9X' } })
    const taken = await call('POST', `${a}/vaults`, { name: 'env', prefix: 'env-1' })
    assert.equal(taken.status, 409)
    assert.equal((await call('DELETE', `${a}/vaults/vaults`)).status, 204)
    assert.equal((await call('DELETE', `${a}/vaults`)).status, 405)

    const schema = await call('GET', `${a}/schemas/vaults/env`)
    assert.equal(schema.status, 200)
    assert.equal(schema.body.fields[0].config.fields[0].prefix.type, 'string')
    assert.deepEqual((await call('GET', `${a}/schemas/vaults/hcv`)).body, { message: "No vault named 'hcv'" })
    assert.equal((await call('GET', `${a}/schemas/vaults`)).body.fields[1].prefix.unique, true)
    const valid = await call('POST', `${a}/schemas/vaults/validate`, { name: 'env', prefix: 'checked' })
    assert.deepEqual(valid.body, { message: 'schema validation successful' })
    assert.equal((await call('POST', `${a}/schemas/vaults/validate`, { name: 'env', prefix: 'env' })).status, 400)
    assert.equal((await call('DELETE', `${a}/vaults/env-1`)).status, 204)
    assert.equal((await call('GET', `${a}/vaults/env-1`)).status, 404)
  })

  test('a certificate whose cert and key are references is served; the Admin API shows the references', async () => {
    const a = gw.adminUrl
    assert.equal((await call('PUT', `${a}/vaults/tls-vault`, { name: 'env', config: { prefix: 'VT_' } })).status, 200)
    const cert = await call('POST', `${a}/certificates`, {
      cert: '{vault://tls-vault/cert}',
      key: '{vault://tls-vault/key}',
      snis: ['vault.test'],
    })
    assert.equal(cert.status, 201, cert.text)
    assert.equal(cert.body.cert, '{vault://tls-vault/cert}')
    assert.equal((await call('GET', `${a}/certificates/vault.test`)).body.key, '{vault://tls-vault/key}')
    await eventually(
      async () => (await handshake(tlsPort, 'vault.test').catch(() => null))?.fingerprint256 === fingerprint(pair.cert),
      5000,
      'the referenced certificate served for vault.test',
    )
  })

  test('a certificate whose variables are not set: handshakes for its SNI are refused, the log says why', async () => {
    const cert = await call('POST', `${gw.adminUrl}/certificates`, {
      cert: '{vault://env/absent-cert}',
      key: '{vault://env/absent-key}',
      snis: ['absent.test'],
    })
    assert.equal(cert.status, 201, cert.text)
    const line = await gw.waitForLog(/unable to resolve reference \{vault:\/\/env\/absent-cert\}/)
    assert.match(line, /\[warn\] .*\(could not get value from external vault \(no value found\)\) in certificates [0-9a-f-]{36} field cert/)
    assert.match(line, /hint: "the environment variable ABSENT_CERT is not set where the gateway runs/)
    assert.match(line, /code: "TP_VAULT_REFERENCE_UNRESOLVED"/)
    await assert.rejects(handshake(tlsPort, 'absent.test'))
    await gw.waitForLog(/\[info\] .*no usable certificate for server name absent\.test while SSL handshaking, client: 127\.0\.0\.1/)
    // other names still get the default certificate
    assert.notEqual((await handshake(tlsPort, 'other.test')).fingerprint256, fingerprint(pair.cert))
  })

  test('http-log: a referenced endpoint and header value are used, the Admin API keeps the references', async () => {
    const a = gw.adminUrl
    assert.equal((await call('POST', `${a}/services`, { name: 'echo', url: echo.url })).status, 201)
    assert.equal((await call('POST', `${a}/services/echo/routes`, { name: 'logged', paths: ['/logged'] })).status, 201)
    const plugin = await call('POST', `${a}/routes/logged/plugins`, {
      name: 'http-log',
      config: {
        http_endpoint: '{vault://env/log-url}',
        headers: { 'X-Log-Token': '{vault://env/log-secrets/token}' },
        queue: { max_coalescing_delay: 0.1 },
      },
    })
    assert.equal(plugin.status, 201, plugin.text)
    assert.equal(plugin.body.config.headers['X-Log-Token'], '{vault://env/log-secrets/token}')
    await eventually(async () => (await fetch(`${proxyUrl}/logged`)).status === 200, 5000, 'the route is live')
    await eventually(async () => collector.received.some((r) => r.url === '/log'), 8000, 'a log entry reaches the collector')
    const entry = collector.received.find((r) => r.url === '/log')
    assert.equal(entry?.headers['x-log-token'], 'abc123')
  })
})

describe('vaults = off', () => {
  test('no vault is installed: the entity says so, references resolve nothing and the log says why', async () => {
    const gw = await startTestGateway({ settings: { vaults: 'off' }, env: { OFF_CERT: 'x', OFF_KEY: 'y' } })
    try {
      const v = await call('POST', `${gw.adminUrl}/vaults`, { name: 'env', prefix: 'some-vault' })
      assert.equal(v.status, 400)
      assert.deepEqual(v.body.fields, { name: "vault 'env' is not installed" })
      const c = await call('POST', `${gw.adminUrl}/certificates`, { cert: '{vault://env/off-cert}', key: '{vault://env/off-key}' })
      assert.equal(c.status, 201, c.text)
      const line = await gw.waitForLog(/unable to resolve reference \{vault:\/\/env\/off-cert\} \(could not find vault \(env\)\)/)
      assert.match(line, /hint: "the vaults setting is off: set vaults = bundled/)
    } finally {
      await gw.stop()
    }
  })
})

describe("decK's sync-012 vaults file", () => {
  const pair = makeCert({ cn: 'localhost' })
  const env = { MY_SECRET_CERT: pair.cert, MY_SECRET_KEY: pair.key }

  test('loads DB-less with MY_SECRET_CERT/MY_SECRET_KEY set and is served for SNI localhost', async () => {
    const tls = await freePort()
    const gw = await startTestGateway({
      settings: { database: 'off', declarative_config: SYNC_012, proxy_listen: `127.0.0.1:${await freePort()}, 127.0.0.1:${tls} ssl` },
      env,
    })
    try {
      const vaults = await call('GET', `${gw.adminUrl}/vaults/my-env-vault`)
      assert.equal(vaults.status, 200)
      assert.deepEqual([vaults.body.name, vaults.body.config], ['env', { prefix: 'MY_SECRET_' }])
      assert.equal(
        (await call('GET', `${gw.adminUrl}/certificates/13c562a1-191c-4464-9b18-e5222b46035b`)).body.cert,
        '{vault://my-env-vault/cert}',
      )
      assert.equal((await handshake(tls, 'localhost')).fingerprint256, fingerprint(pair.cert))
    } finally {
      await gw.stop()
    }
  })

  test('turnpike config sync applies it; the second diff is clean; the certificate is served', async () => {
    const tls = await freePort()
    const gw = await startTestGateway({ settings: { proxy_listen: `127.0.0.1:${await freePort()}, 127.0.0.1:${tls} ssl` }, env })
    try {
      const cli = (...args: string[]) => runTurnpike(['config', ...args, '--admin-url', gw.adminUrl])
      const first = await cli('sync', SYNC_012)
      assert.equal(first.status, 0, first.stderr)
      assert.match(first.stdout, /creating vault my-env-vault\n/)
      const again = await cli('diff', SYNC_012)
      assert.equal(again.status, 0, again.stderr)
      assert.match(again.stdout, /Created: 0\n {2}Updated: 0\n {2}Deleted: 0/)
      const dump = await cli('dump')
      assert.match(dump.stdout, /\nvaults:\n- config:\n {4}prefix: MY_SECRET_\n/)
      assert.match(dump.stdout, /cert: '\{vault:\/\/my-env-vault\/cert\}'|cert: "\{vault:\/\/my-env-vault\/cert\}"/)
      await eventually(
        async () => (await handshake(tls, 'localhost').catch(() => null))?.fingerprint256 === fingerprint(pair.cert),
        5000,
        'the synced certificate served for localhost',
      )
    } finally {
      await gw.stop()
    }
  })
})
