/**
 * The seed document's Ansible playbooks ("Deploy services in KONG" and "Deploy routes and plugins in
 * Kong Gateway"), run with real `ansible-playbook` (Debian's `ansible` package) against the real
 * gateway's Admin API: services, routes, plugins (and a consumer with a key) posted with `uri`,
 * `body_format: json` and `status_code: [201, 409]`. The first run creates everything and traffic
 * flows through the proxy; a second run gets 409 for every POST, reports changed=0 in the PLAY RECAP
 * and leaves every entity as it was. The playbooks live in test/fixtures/ansible/ and list what was
 * changed from the seed and why.
 *
 * Ansible runs with a local connection only (no SSH), no fact gathering, a throwaway HOME and
 * temp dirs, no proxy, and only 127.0.0.1 addresses. Without `ansible-playbook` the tests skip and
 * say why (.ci/run installs it).
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { AnsibleProject, ansibleMissing, type PlaybookRun } from '../../helpers/ansible.js'
import { call, eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'

const SKIP = ansibleMissing()

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON read loosely by the test
async function getJson(url: string): Promise<any> {
  const res = await call('GET', url)
  assert.equal(res.status, 200, `GET ${url} → ${String(res.status)} ${res.text}`)
  return res.body
}

/** Every entity of the kinds the playbooks create, by collection, sorted by id. */
async function snapshot(gw: TestGateway): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {}
  for (const kind of ['services', 'routes', 'plugins', 'consumers', 'key-auths']) {
    const body = await getJson(`${gw.adminUrl}/${kind}?size=1000`)
    assert.equal(body.next, null)
    out[kind] = [...(body.data as Array<{ id: string }>)].sort((a, b) => a.id.localeCompare(b.id))
  }
  return out
}

function summary(requests: PlaybookRun['requests']): string[] {
  return requests.map((r) => `${r.method} ${r.path} ${String(r.status)}`).sort()
}

describe('seed playbook "Deploy services in KONG": service → routes → plugins with real Ansible', { skip: SKIP ?? false }, () => {
  let gw: TestGateway
  let up: TestUpstream
  let project: AnsibleProject
  let inventory: string
  let first: PlaybookRun
  let afterFirst: Record<string, unknown[]>

  before(async () => {
    up = await startUpstream()
    gw = await startTestGateway()
    project = new AnsibleProject(gw)
    inventory = project.prepareDeployKong(up.port)
  })

  after(async () => {
    await gw?.stop()
    await up?.close()
    project?.cleanup()
  })

  const EXPECTED_POSTS = [
    'POST /consumers',
    'POST /consumers/ansible-user/key-auth',
    'POST /services',
    'POST /services/my-service/plugins',
    'POST /services/my-service/plugins',
    'POST /services/my-service/routes',
    'POST /services/my-service/routes',
  ]

  test('first run creates the service, its routes, its plugins and the consumer key', async () => {
    first = await project.run('deploy-kong.yml', ['-i', inventory], EXPECTED_POSTS.length)
    assert.equal(first.code, 0, first.output)
    // 3 set_fact + 5 uri tasks, all "ok"; the 5 uri tasks created something.
    assert.deepEqual(first.recap, { ok: 8, changed: 5, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 }, first.output)
    assert.deepEqual(
      summary(first.requests),
      EXPECTED_POSTS.map((p) => `${p} 201`),
      first.output,
    )

    const svc = await getJson(`${gw.adminUrl}/services/my-service`)
    assert.equal(svc.host, '127.0.0.1')
    assert.equal(svc.port, up.port)
    assert.equal(svc.protocol, 'http')
    assert.equal(svc.path, '/api')
    assert.equal(svc.retries, 5)
    assert.equal(svc.connect_timeout, 60000)
    assert.deepEqual(svc.tags, ['exported', 'my-tag'])

    const routes = (await getJson(`${gw.adminUrl}/services/my-service/routes`)).data as any[] // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.deepEqual(routes.map((r) => r.name).sort(), ['my-service-orders', 'my-service-status'])
    for (const r of routes) assert.deepEqual(r.service, { id: svc.id })
    const orders = routes.find((r) => r.name === 'my-service-orders')
    assert.deepEqual(orders.methods, ['GET', 'POST'])
    assert.equal(orders.strip_path, true)

    const plugins = (await getJson(`${gw.adminUrl}/services/my-service/plugins`)).data as any[] // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.deepEqual(plugins.map((p) => p.name).sort(), ['key-auth', 'rate-limiting'])
    for (const p of plugins) {
      assert.deepEqual(p.service, { id: svc.id })
      assert.equal(p.route, null)
      assert.equal(p.enabled, true)
    }
    const keyAuth = plugins.find((p) => p.name === 'key-auth')
    assert.deepEqual(keyAuth.config.key_names, ['apikey'])
    assert.equal(keyAuth.config.hide_credentials, true)
    assert.equal(plugins.find((p) => p.name === 'rate-limiting').config.minute, 1000)

    const keys = (await getJson(`${gw.adminUrl}/consumers/ansible-user/key-auth`)).data as any[] // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(keys.length, 1)
    assert.equal(keys[0].key, 'ansible-secret-key')

    afterFirst = await snapshot(gw)
    assert.deepEqual(Object.fromEntries(Object.entries(afterFirst).map(([k, v]) => [k, v.length])), {
      services: 1,
      routes: 2,
      plugins: 2,
      consumers: 1,
      'key-auths': 1,
    })
  })

  test('traffic flows through the deployed service, with its plugins applied', async () => {
    assert.ok(first !== undefined, 'the first run must have happened')
    // Configuration reaches the proxy asynchronously: poll the authenticated request.
    let res = await call('GET', `${gw.proxyUrl}/orders/42?x=1`, undefined, { apikey: 'ansible-secret-key' })
    await eventually(
      async () => {
        res = await call('GET', `${gw.proxyUrl}/orders/42?x=1`, undefined, { apikey: 'ansible-secret-key' })
        return res.status === 200
      },
      10_000,
      'the deployed route to answer 200',
    )
    // strip_path: /orders is removed and the service path /api prepended.
    assert.equal(res.body.url, '/api/42?x=1')
    assert.equal(res.body.headers.apikey, undefined, 'hide_credentials removes the key')
    assert.equal(res.body.headers['x-consumer-username'], 'ansible-user')
    assert.equal(res.headers['x-ratelimit-limit-minute'], '1000')

    const status = await call('GET', `${gw.proxyUrl}/status-check`, undefined, { apikey: 'ansible-secret-key' })
    assert.equal(status.status, 200)
    assert.equal(status.body.url, '/api/status-check', 'strip_path false keeps the matched path')

    const anonymous = await call('GET', `${gw.proxyUrl}/orders/42`)
    assert.equal(anonymous.status, 401)
    assert.equal(anonymous.body.message, 'No API key found in request')

    const wrongMethod = await call('DELETE', `${gw.proxyUrl}/orders/42`, undefined, { apikey: 'ansible-secret-key' })
    assert.equal(wrongMethod.status, 404)
  })

  test('second run gets 409 for every POST, reports changed=0 and changes nothing', async () => {
    assert.ok(afterFirst !== undefined, 'the first run must have happened')
    const second = await project.run('deploy-kong.yml', ['-i', inventory], EXPECTED_POSTS.length)
    assert.equal(second.code, 0, second.output)
    assert.deepEqual(second.recap, { ok: 8, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 }, second.output)
    assert.deepEqual(
      summary(second.requests),
      EXPECTED_POSTS.map((p) => `${p} 409`),
      second.output,
    )
    // Same entities, same ids, same timestamps: nothing was written.
    assert.deepEqual(await snapshot(gw), afterFirst)

    // The 409 Ansible accepted is Kong's unique-violation answer.
    const again = await call('POST', `${gw.adminUrl}/services/my-service/plugins`, { name: 'key-auth', config: { key_names: ['apikey'] } })
    assert.equal(again.status, 409)
    assert.equal(again.body.code, 5)
    assert.equal(again.body.name, 'unique constraint violation')
    const dupService = await call('POST', `${gw.adminUrl}/services`, { name: 'my-service', host: '127.0.0.1' })
    assert.deepEqual(dupService.body, {
      code: 5,
      name: 'unique constraint violation',
      message: `UNIQUE violation detected on '{name="my-service"}'`,
      fields: { name: 'my-service' },
    })

    const res = await call('GET', `${gw.proxyUrl}/orders/7`, undefined, { apikey: 'ansible-secret-key' })
    assert.equal(res.status, 200)
    assert.equal(res.body.url, '/api/7')
  })
})

describe('seed playbook "Deploy routes and plugins in Kong Gateway" with "Create Service First"', { skip: SKIP ?? false }, () => {
  let gw: TestGateway
  let up: TestUpstream
  let project: AnsibleProject
  let extraVars: string[]
  let afterFirst: Record<string, unknown[]>

  before(async () => {
    up = await startUpstream()
    gw = await startTestGateway()
    project = new AnsibleProject(gw)
    extraVars = ['-e', `kong_admin_url=${gw.adminUrl}`, '-e', `example_backend_url=${up.url}`]
  })

  after(async () => {
    await gw?.stop()
    await up?.close()
    project?.cleanup()
  })

  test('first run creates example-service and route1; the route proxies', async () => {
    // No inventory: `hosts: localhost` with `connection: local`, as in the seed; the Admin URL and
    // the backend come in with -e and override vars/routes.yml.
    const first = await project.run('deploy-routes.yml', extraVars, 2)
    assert.equal(first.code, 0, first.output)
    assert.deepEqual(first.recap, { ok: 2, changed: 2, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 }, first.output)
    assert.deepEqual(summary(first.requests), ['POST /routes 201', 'POST /services 201'])

    const svc = await getJson(`${gw.adminUrl}/services/example-service`)
    assert.equal(svc.host, '127.0.0.1')
    assert.equal(svc.port, up.port)
    const route = await getJson(`${gw.adminUrl}/routes/route1`)
    assert.deepEqual(route.service, { id: svc.id })
    assert.deepEqual(route.paths, ['/example'])
    assert.deepEqual(route.methods, ['GET'])
    assert.equal(route.strip_path, true, 'the templated `True` arrives as a JSON boolean')

    let res = await call('GET', `${gw.proxyUrl}/example/anything`)
    await eventually(
      async () => {
        res = await call('GET', `${gw.proxyUrl}/example/anything`)
        return res.status === 200
      },
      10_000,
      'route1 to answer 200',
    )
    assert.equal(res.body.url, '/anything')
    afterFirst = await snapshot(gw)
  })

  test('second run: 409 for both, changed=0, same service and route', async () => {
    assert.ok(afterFirst !== undefined, 'the first run must have happened')
    const second = await project.run('deploy-routes.yml', extraVars, 2)
    assert.equal(second.code, 0, second.output)
    assert.deepEqual(second.recap, { ok: 2, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 }, second.output)
    assert.deepEqual(summary(second.requests), ['POST /routes 409', 'POST /services 409'])
    assert.deepEqual(await snapshot(gw), afterFirst)
    const res = await call('GET', `${gw.proxyUrl}/example/again`)
    assert.equal(res.status, 200)
    assert.equal(res.body.url, '/again')
  })

  test('the seed as written, run again: each 409 fails its task and ignore_errors hides it', async () => {
    assert.ok(afterFirst !== undefined, 'the first run must have happened')
    const run = await project.run('deploy-routes-as-written.yml', ['-e', `kong_admin_url=${gw.adminUrl}`], 2)
    assert.equal(run.code, 0, run.output)
    assert.deepEqual(run.recap, { ok: 2, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 2 }, run.output)
    // The body with `# change to your backend URL` arrived as valid JSON: 409, not 400.
    assert.deepEqual(summary(run.requests), ['POST /routes 409', 'POST /services 409'])
    // What the user sees in the ignored failures: the gateway's reason.
    assert.match(run.output, /Status code was 409 and not \[201\]/)
    assert.match(run.output, /UNIQUE violation detected on '\{name=\\"example-service\\"\}'/)
    assert.match(run.output, /UNIQUE violation detected on '\{name=\\"route1\\"\}'/)
    assert.deepEqual(await snapshot(gw), afterFirst)
  })
})
