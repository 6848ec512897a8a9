import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import { loadConfig, type LoadConfigOptions } from '../../../src/config/index.js'
import type { GatewayConfig } from '../../../src/config/types.js'

const dirs: string[] = []
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** A fresh temporary directory, removed after the test file. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-config-'))
  dirs.push(dir)
  return dir
}

/** Writes a conf file into a temporary directory and returns its path. */
export function writeConf(text: string, name = 'turnpike.conf'): string {
  const path = join(tempDir(), name)
  writeFileSync(path, text)
  return path
}

/** loadConfig isolated from the machine: no /etc search, empty environment, fixed cwd. */
export function load(opts: LoadConfigOptions = {}): GatewayConfig {
  return loadConfig({ env: {}, searchPaths: [], cwd: '/srv/gw', ...opts })
}
