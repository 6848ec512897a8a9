/**
 * Real `ansible-playbook` for tests: the environment it runs in (local connection only, a throwaway
 * HOME, nothing online), whether it can run here, and a copy of the seed playbooks in
 * test/fixtures/ansible/ run against a test gateway, with the PLAY RECAP and the Admin API requests
 * Ansible made (from admin_access.log).
 */
import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eventually, ROOT, type TestGateway } from './gateway.js'

const FIXTURES = join(ROOT, 'test', 'fixtures', 'ansible')
const PLAYBOOK_TIMEOUT_MS = 45_000

/** The environment Ansible runs in: nothing from the user's setup, nothing online. */
export function ansibleEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('ANSIBLE_') || /^(https?|all|no)_proxy$/i.test(k)) continue
    env[k] = v
  }
  return {
    ...env,
    HOME: home,
    LC_ALL: 'C.UTF-8',
    LANG: 'C.UTF-8',
    no_proxy: '127.0.0.1,localhost',
    NO_PROXY: '127.0.0.1,localhost',
    ANSIBLE_CONFIG: join(home, 'ansible.cfg'),
    ANSIBLE_LOCAL_TEMP: join(home, 'tmp-local'),
    ANSIBLE_REMOTE_TEMP: join(home, 'tmp-remote'),
    ANSIBLE_COLLECTIONS_PATH: join(home, 'collections'),
    ANSIBLE_ROLES_PATH: join(home, 'roles'),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
    ANSIBLE_LOCALHOST_WARNING: 'False',
    ANSIBLE_INVENTORY_UNPARSED_WARNING: 'False',
    ANSIBLE_DEPRECATION_WARNINGS: 'False',
    ANSIBLE_SYSTEM_WARNINGS: 'False',
    ANSIBLE_GATHERING: 'explicit',
    ANSIBLE_RETRY_FILES_ENABLED: 'False',
    ANSIBLE_HOST_KEY_CHECKING: 'False',
    ANSIBLE_PYTHON_INTERPRETER: 'auto_silent',
    ANSIBLE_STDOUT_CALLBACK: 'default',
    ANSIBLE_LOAD_CALLBACK_PLUGINS: 'False',
    ANSIBLE_FORKS: '1',
    ANSIBLE_PIPELINING: 'True',
  }
}

/** Why the tests cannot run here, or null when `ansible-playbook` works. */
export function ansibleMissing(): string | null {
  const home = mkdtempSync(join(tmpdir(), 'turnpike-ansible-probe-'))
  try {
    writeFileSync(join(home, 'ansible.cfg'), '[defaults]\n')
    const r = spawnSync('ansible-playbook', ['--version'], { env: ansibleEnv(home), encoding: 'utf8', timeout: 20_000 })
    if (r.error !== undefined)
      return `ansible-playbook is not installed or cannot start (${r.error.message}); install Debian's "ansible" package (.ci/run does)`
    if (r.status !== 0) return `ansible-playbook --version exited with ${String(r.status)}: ${r.stderr.trim() || r.stdout.trim()}`
    return null
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

export interface Recap {
  ok: number
  changed: number
  unreachable: number
  failed: number
  skipped: number
  rescued: number
  ignored: number
}

export interface PlaybookRun {
  code: number | null
  output: string
  recap: Recap
  /** Admin API requests Ansible made during this run, from admin_access.log. */
  requests: Array<{ method: string; path: string; status: number }>
}

/** A copy of the fixtures, an inventory for the gateway, and a way to run a playbook from them. */
export class AnsibleProject {
  readonly dir: string
  readonly home: string
  readonly gw: TestGateway
  #logOffset = 0

  constructor(gw: TestGateway) {
    this.gw = gw
    this.home = mkdtempSync(join(tmpdir(), 'turnpike-ansible-'))
    this.dir = join(this.home, 'kong')
    cpSync(FIXTURES, this.dir, { recursive: true })
    for (const d of ['tmp-local', 'tmp-remote', 'collections', 'roles']) mkdirSync(join(this.home, d))
    writeFileSync(join(this.home, 'ansible.cfg'), '[defaults]\ninterpreter_python = auto_silent\n')
  }

  writeInventory(text: string): string {
    const file = join(this.home, 'inventory.ini')
    writeFileSync(file, text)
    return file
  }

  /**
   * Readies deploy-kong.yml against this gateway: the seed's service template names
   * example.internal:8080, pointed here at the local upstream on `upstreamPort`; the seed's playbook
   * targets `hosts: kong` and reads kong_admin_host, run on the control node. Returns the inventory.
   */
  prepareDeployKong(upstreamPort: number): string {
    const template = join(this.dir, 'templates', 'service.json.j2')
    const original = readFileSync(template, 'utf8')
    const local = original
      .replace('"host": "example.internal"', '"host": "127.0.0.1"')
      .replace('"port": 8080', `"port": ${String(upstreamPort)}`)
    assert.notEqual(local, original)
    writeFileSync(template, local)
    return this.writeInventory(
      [
        '[kong_gateways]',
        'kong ansible_connection=local',
        '',
        '[kong_gateways:vars]',
        `kong_admin_host=${this.gw.adminUrl}`,
        'consumer_username=ansible-user',
        'consumer_api_key=ansible-secret-key',
        '',
      ].join('\n'),
    )
  }

  #adminLog(): string {
    const file = join(this.gw.prefix, 'logs', 'admin_access.log')
    return existsSync(file) ? readFileSync(file, 'utf8') : ''
  }

  async run(playbook: string, args: readonly string[], expectedRequests: number): Promise<PlaybookRun> {
    this.#logOffset = this.#adminLog().length
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = execFile(
        'ansible-playbook',
        [playbook, ...args],
        { cwd: this.dir, env: ansibleEnv(this.home), timeout: PLAYBOOK_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const c = err === null ? 0 : typeof err.code === 'number' ? err.code : null
          resolve({ code: c, output: `${stdout}\n${stderr}` })
        },
      )
      child.stdin?.end()
    })
    const m =
      /^\S+\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)/m.exec(output)
    assert.ok(m !== null, `no PLAY RECAP line in ansible-playbook output (exit ${String(code)}):\n${output}`)
    const n = (i: number): number => Number(m[i])
    const recap: Recap = { ok: n(1), changed: n(2), unreachable: n(3), failed: n(4), skipped: n(5), rescued: n(6), ignored: n(7) }
    // The access log line is written when the response ends; give the last one a moment.
    let requests: PlaybookRun['requests'] = []
    await eventually(
      async () => {
        requests = this.#adminLog()
          .slice(this.#logOffset)
          .split('\n')
          .filter((line) => line.includes('"ansible-httpget"'))
          .map((line) => {
            const r = /"(\w+) (\S+) HTTP\/[\d.]+" (\d{3}) /.exec(line)
            assert.ok(r !== null, `unexpected admin access log line: ${line}`)
            return { method: r[1] ?? '', path: r[2] ?? '', status: Number(r[3]) }
          })
        return requests.length >= expectedRequests
      },
      5000,
      `${String(expectedRequests)} Ansible requests in admin_access.log`,
    ).catch(() => undefined)
    return { code, output, recap, requests }
  }

  cleanup(): void {
    rmSync(this.home, { recursive: true, force: true })
  }
}
