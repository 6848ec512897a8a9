/**
 * `turnpike config …`: decK's workflow built in (dump, diff, sync, validate over the Admin API,
 * so they work against Kong too) and Kong's `kong config` verbs (init, parse, db_import,
 * db_export against the configured store).
 *
 * @module
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createInterface } from 'node:readline/promises'
import type { GatewayConfig } from '../../config/index.js'
import { Dao } from '../../dao/index.js'
import { AdminClient } from '../sync/admin-client.js'
import {
  countRows,
  deckDump,
  DeclarativeError,
  describeProblems,
  entityGraph,
  type EntityGraph,
  flattenConfig,
  kongExport,
  readAll,
  toYaml,
} from '../../declarative/index.js'
import { applyPlan, describePlan, fetchCurrent, planSync, readDocuments } from '../sync/sync.js'
import { entityRegistry } from '../../plugins/entity.js'
import { loadPlugins } from '../../plugins/registry.js'
import type { EntitySchema } from '../../schema/index.js'
import { setOwn, storeEntity } from '../../schema/index.js'
import { createStore, PostgresStore, pgMigrations } from '../../store/index.js'
import { storeLocation, storeOptions } from '../../runtime/store-options.js'
import type { Row } from '../../store/index.js'
import { closestCommand, type ParsedArgs } from '../args.js'
import { runningAdminUrl } from './health.js'

export const CONFIG_USAGE = `Usage: turnpike config COMMAND [OPTIONS]

Against a running gateway's Admin API (Turnpike or Kong; --admin-url, default: the gateway running in
the prefix of -c/-p, else http://127.0.0.1:8001):
  dump [-o FILE] [--select-tag T]... [--with-id]   write the configuration as a declarative file (stdout by default)
  diff FILE... [--select-tag T]...                 show what sync would change
  sync FILE... [--select-tag T]... [--dry-run]     make the gateway match the files (creates, updates, deletes within the tags;
       [--yes]                                     on a terminal, deletes are confirmed first unless --yes)
  validate FILE... [--online]                      check files offline; --online also checks references and schemas on the gateway

Against the configured store (-c conf, -p prefix), as Kong's CLI:
  init [FILE]                                      write an example kong.yml (default ./kong.yml)
  parse FILE                                       validate a file (same as validate)
  db_import FILE                                   load a file into the database (creates or replaces the entities it declares)
  db_export [FILE]                                 write the database as a declarative file (default ./kong.yml)

Options:
  -c, --conf FILE           kong.conf-syntax configuration file (its prefix locates the running gateway)
  -p, --prefix DIR          prefix directory of the running gateway
  --admin-url URL           Admin API address (also: --kong-addr)
  -H, --header 'Name: v'    extra header on every Admin API request (e.g. an admin token); repeatable
  --select-tag T            only entities with this tag (all given tags); repeatable
  -s, --state FILE          decK's way of naming the files (same as listing them); repeatable
  --skip-consumers          leave consumers, their credentials and consumer plugins alone (dump, diff, sync)
  --yes                     do not ask before deleting (sync)
`

/** The subcommands, for "did you mean". */
const SUBCOMMANDS = ['dump', 'diff', 'sync', 'validate', 'init', 'parse', 'db_import', 'db_export']

/** The node's entity registry (core entities, consumers, plugins and their entities), from the local settings. */
async function registryFor(config: GatewayConfig): Promise<Readonly<Record<string, EntitySchema>>> {
  return entityRegistry(await loadPlugins(config.plugins, config.plugins_path), { vaults: config.vaults, database: config.database })
}

function out(line: string): void {
  process.stdout.write(`${line}\n`)
}

function readFiles(files: readonly string[]): { name: string; text: string }[] {
  if (files.length === 0) throw new UsageProblem('expected at least one declarative file')
  return files.map((name) => {
    if (name === '-') return { name: 'stdin.yaml', text: readFileSync(0, 'utf8') }
    try {
      return { name, text: readFileSync(name, 'utf8') }
    } catch (err) {
      throw new UsageProblem(
        `cannot read ${name}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
      )
    }
  })
}

class UsageProblem extends Error {}

/** The Admin API to talk to: --admin-url, TURNPIKE_ADMIN_URL, the gateway running in the prefix, port 8001. */
function client(args: ParsedArgs, config?: GatewayConfig): AdminClient {
  const running = args.adminUrl === undefined && config !== undefined ? runningAdminUrl(config) : undefined
  return new AdminClient(args.adminUrl ?? process.env['TURNPIKE_ADMIN_URL'] ?? running ?? 'http://127.0.0.1:8001', args.headers)
}

/** Entities that belong to consumers (`--skip-consumers`): consumers, what references them (credentials, ACLs). */
function consumerOwned(graph: EntityGraph, entity: string): boolean {
  return entity === 'consumers' || (entity !== 'plugins' && (graph.foreign[entity] ?? []).some((l) => l.reference === 'consumers'))
}

/** The gateway's rows without consumers, their entities and consumer-scoped plugins. */
function rowsWithoutConsumers(rows: Record<string, Row[]>, graph: EntityGraph): Record<string, Row[]> {
  const out: Record<string, Row[]> = {}
  for (const [entity, list] of Object.entries(rows)) {
    if (consumerOwned(graph, entity)) continue
    out[entity] = entity === 'plugins' ? list.filter((r) => r['consumer'] === null || r['consumer'] === undefined) : list
  }
  return out
}

/** The files' document without consumers, their entities and consumer-scoped plugins. */
function docWithoutConsumers(doc: Record<string, unknown>, graph: EntityGraph): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(doc)) {
    if (graph.schemas[key] !== undefined && consumerOwned(graph, key)) continue
    setOwn(
      out,
      key,
      key === 'plugins' && Array.isArray(value)
        ? value.filter((p) => p === null || typeof p !== 'object' || (p as Record<string, unknown>)['consumer'] === undefined)
        : value,
    )
  }
  return out
}

/** Asks on the terminal; false when the answer is not yes. */
async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    const answer = await rl.question(`${question} (y/N) `)
    return /^y(es)?$/i.test(answer.trim())
  } finally {
    rl.close()
  }
}

function printProblems(where: string, err: DeclarativeError): number {
  const lines = describeProblems(err.problems)
  process.stderr.write(
    `Error: ${where} is invalid (${lines.length} problem${lines.length === 1 ? '' : 's'}):\n${lines.map((l) => `  ${l}\n`).join('')}`,
  )
  return 1
}

function progress(total: number): ((done: number, all: number) => void) | undefined {
  if (total < 200) return undefined
  let last = 0
  return (done, all) => {
    const now = Date.now()
    if (done === all || now - last > 500) {
      last = now
      process.stderr.write(`  applied ${done}/${all} changes\n`)
    }
  }
}

const EXAMPLE = `# A declarative configuration for Turnpike (Kong's format).
# Load it with:  database = off  and  declarative_config = /path/to/kong.yml
# or push it to a running gateway with:  turnpike config sync kong.yml
_format_version: "3.0"
_transform: true

services:
- name: example-service
  url: http://httpbin.org
  # routes nested under a service point at it
  routes:
  - name: example-route
    paths:
    - /example

# Entities can also be written flat, referencing their parent by name or id:
#
# routes:
# - name: another-route
#   service: example-service
#   hosts:
#   - example.com
`

async function openStore(config: GatewayConfig, registry: Readonly<Record<string, EntitySchema>>): Promise<Dao> {
  if (config.database === 'off')
    throw new UsageProblem(
      "this command works on the database: database is off (in DB-less mode, point declarative_config at the file instead, or POST it to /config: 'turnpike config sync FILE')",
    )
  const store = createStore(storeOptions(config))
  try {
    // PostgreSQL is bootstrapped by `turnpike migrations bootstrap`, not behind the user's back.
    if (store instanceof PostgresStore) await pgMigrations.checkSchemaState(store)
    await store.init(Object.values(registry).map((e) => storeEntity(e)))
  } catch (err) {
    await store.close().catch(() => {})
    throw new StoreProblem(`could not open the ${config.database} store at ${storeLocation(config)}: ${(err as Error).message}`)
  }
  return new Dao(store, registry)
}

/** The configured store could not be opened (exit code 1). */
class StoreProblem extends Error {}

/** Runs `turnpike config <sub> …`; returns the exit code. */
export async function configCommand(args: ParsedArgs, loadGatewayConfig: () => GatewayConfig): Promise<number> {
  const [sub, ...named] = args.positional
  const files = [...named, ...args.state]
  try {
    const gatewayConfig = sub === undefined || sub === 'init' ? undefined : loadGatewayConfig()
    const registry = gatewayConfig === undefined ? {} : await registryFor(gatewayConfig)
    const graph = entityGraph(registry)
    switch (sub) {
      case undefined:
        process.stdout.write(CONFIG_USAGE)
        return args.help ? 0 : 2
      case 'init': {
        const file = files[0] ?? 'kong.yml'
        if (existsSync(file)) throw new UsageProblem(`${file} already exists: remove it or give another name`)
        writeFileSync(file, EXAMPLE)
        out(`wrote an example declarative configuration to ${file}`)
        return 0
      }
      case 'validate':
      case 'parse': {
        const doc = readDocuments(readFiles(files))
        const current = args.online ? await fetchCurrent(client(args, gatewayConfig), graph) : undefined
        const resolveExternal =
          current === undefined
            ? undefined
            : (entity: string, key: string): string | undefined => {
                const endpoint = graph.schemas[entity]?.endpoint_key
                return (current[entity] ?? []).find((r) => r.id === key || (endpoint !== undefined && r[endpoint] === key))?.id
              }
        if (args.selectTags.length > 0) doc['_info'] = { ...(doc['_info'] as object | undefined), select_tags: args.selectTags }
        const result = flattenConfig(doc, graph, resolveExternal === undefined ? {} : { resolveExternal })
        if (!result.ok) return printProblems(files.join(', '), new DeclarativeError(result.problems))
        if (args.online) {
          const c = client(args, gatewayConfig)
          const problems: string[] = []
          for (const entity of graph.order) {
            for (const row of result.config.entities[entity] ?? []) {
              const body: Record<string, unknown> = { ...row }
              delete body['created_at']
              delete body['updated_at']
              const res = await c.request('POST', `/schemas/${entity}/validate`, body)
              if (res.status !== 200)
                problems.push(`${entity} ${String(row['name'] ?? row.id)}: the gateway says ${JSON.stringify(res.body)}`)
            }
          }
          if (problems.length > 0) {
            process.stderr.write(
              `Error: the gateway at ${c.baseUrl} refuses ${problems.length} entit${problems.length === 1 ? 'y' : 'ies'}:\n${problems.map((l) => `  ${l}\n`).join('')}`,
            )
            return 1
          }
        }
        const counts = graph.order.map((e) => `${result.config.entities[e]?.length ?? 0} ${e}`).join(', ')
        out(
          `${files.join(', ')}: valid (format ${result.config.meta._format_version}; ${counts})${args.online ? `, checked against ${client(args, gatewayConfig).baseUrl}` : ''}`,
        )
        return 0
      }
      case 'dump': {
        const c = client(args, gatewayConfig)
        const fetched = await fetchCurrent(c, graph, args.selectTags)
        const rows = args.skipConsumers ? rowsWithoutConsumers(fetched, graph) : fetched
        const text = toYaml(deckDump(rows, graph, { selectTags: args.selectTags, withId: args.withId }))
        if (args.output === undefined || args.output === '-') process.stdout.write(text)
        else {
          writeFileSync(args.output, text)
          process.stderr.write(`wrote ${Object.values(rows).reduce((n, r) => n + r.length, 0)} entities to ${args.output}\n`)
        }
        return 0
      }
      case 'diff':
      case 'sync': {
        const read = readDocuments(readFiles(files))
        const doc = args.skipConsumers ? docWithoutConsumers(read, graph) : read
        const c = client(args, gatewayConfig)
        const fetched = await fetchCurrent(c, graph)
        const current = args.skipConsumers ? rowsWithoutConsumers(fetched, graph) : fetched
        const plan = planSync(doc, current, graph, args.selectTags)
        for (const line of describePlan(plan)) out(line)
        if (sub === 'diff' || args.dryRun || plan.changes.length === 0) return 0
        const deletes = plan.changes.filter((ch) => ch.op === 'delete').length
        // a person at a terminal confirms deletes; scripts and pipelines run as with decK
        if (deletes > 0 && !args.yes && process.stdin.isTTY === true && process.stderr.isTTY === true) {
          if (!(await confirm(`This will delete ${deletes} entit${deletes === 1 ? 'y' : 'ies'} from ${c.baseUrl}. Continue?`))) {
            process.stderr.write('Error: nothing was changed (deletes not confirmed; --yes skips the question)\n')
            return 1
          }
        }
        await applyPlan(c, graph, plan, {
          ...(progress(plan.changes.length) === undefined
            ? {}
            : { progress: progress(plan.changes.length) as (d: number, a: number) => void }),
        })
        return 0
      }
      case 'db_import': {
        const file = files[0]
        if (file === undefined) throw new UsageProblem('db_import needs a file')
        const dao = await openStore(gatewayConfig as GatewayConfig, registry)
        try {
          const doc = readDocuments(readFiles([file]))
          const resolveCache = new Map<string, string>() // entity:id or entity:endpoint key → id
          for (const entity of graph.order) {
            const endpoint = graph.schemas[entity]?.endpoint_key
            for (const r of await dao.all(entity)) {
              resolveCache.set(`${entity}:${r.id}`, r.id)
              const k = endpoint === undefined ? undefined : r[endpoint]
              if (typeof k === 'string' || typeof k === 'number') resolveCache.set(`${entity}:${String(k)}`, r.id)
            }
          }
          const result = flattenConfig(doc, graph, { resolveExternal: (entity, key) => resolveCache.get(`${entity}:${key}`) })
          if (!result.ok) return printProblems(file, new DeclarativeError(result.problems))
          for (const entity of graph.order) {
            const transform = graph.schemas[entity]?.transform
            for (const row of result.config.entities[entity] ?? []) {
              const input: Record<string, unknown> = { ...row }
              delete input['updated_at']
              const saved = await dao.upsert(entity, row.id, input)
              // rows are already in stored form (flattening applied `_transform`): a hashed
              // password must not be hashed a second time by the write
              if (
                transform !== undefined &&
                Object.keys(row).some(
                  (k) => k !== 'updated_at' && k !== 'created_at' && JSON.stringify(saved[k]) !== JSON.stringify(row[k]),
                )
              ) {
                await dao.store.update(entity, {
                  ...saved,
                  ...row,
                  created_at: saved['created_at'],
                  updated_at: saved['updated_at'],
                } as Row)
              }
            }
          }
          out(`parse successful, imported ${countRows(result.config)} entities from ${file} (a running gateway picks them up on restart)`)
          return 0
        } finally {
          await dao.store.close()
        }
      }
      case 'db_export': {
        const file = files[0] ?? 'kong.yml'
        if (file !== '-' && existsSync(file)) throw new UsageProblem(`${file} already exists`)
        const dao = await openStore(gatewayConfig as GatewayConfig, registry)
        try {
          const text = toYaml(kongExport(await readAll(dao.store, graph), graph))
          if (file === '-') process.stdout.write(text)
          else {
            writeFileSync(file, text)
            out(`exported the database to ${file}`)
          }
          return 0
        } finally {
          await dao.store.close()
        }
      }
      default:
        {
          const hint = closestCommand(sub, SUBCOMMANDS)
          process.stderr.write(
            `Error: unknown config command '${sub}'${hint === undefined ? '' : ` (did you mean '${hint}'?)`}\n\n${CONFIG_USAGE}`,
          )
        }
        return 2
    }
  } catch (err) {
    if (err instanceof DeclarativeError) return printProblems(files.join(', ') || 'the configuration', err)
    if (err instanceof UsageProblem) {
      process.stderr.write(`Error: ${err.message}\n`)
      return 2
    }
    if (err instanceof StoreProblem) {
      process.stderr.write(`Error: ${err.message}\n`)
      return 1
    }
    if (
      err instanceof Error &&
      (err.name === 'AdminApiError' || err.name === 'SyncError' || err.message.startsWith('cannot reach') || err.name === 'DbError')
    ) {
      process.stderr.write(`Error: ${err.message}\n`)
      return 1
    }
    throw err
  }
}
