/**
 * `turnpike <command>`: start, stop, health, check, version, config, migrations — Kong's CLI verbs, same flags.
 * Returns the exit code; prints one clear line on errors.
 */
// First: V8's regexp flags must be set before any other module creates a RegExp.
import '../regex/engine-flags.js'
import { ConfigError, loadConfig } from '../config/index.js'
import type { GatewayConfig } from '../config/index.js'
import { KONG_COMPAT_VERSION, PRODUCT, VERSION } from '../version.js'
import { closestCommand, parseArgs, UsageError, type ParsedArgs } from './args.js'
import { configCommand } from './commands/config.js'
import { doctorCommand } from './commands/doctor.js'
import { healthCommand } from './commands/health.js'
import { migrationsCommand } from './commands/migrations.js'
import { startCommand } from './commands/start.js'
import { stopCommand } from './commands/stop.js'
import { traceCommand } from './commands/trace.js'

const USAGE = `Usage: turnpike COMMAND [OPTIONS]

The available commands are:
  start [-c conf] [-p prefix]    Start the gateway in the foreground (Ctrl-C or SIGTERM stops it gracefully)
  stop [-c conf] [-p prefix]     Stop a running gateway (via the pid file in its prefix)
  health [-c conf] [-p prefix]   Tell whether the gateway in that prefix is running and answering (on the
                                 addresses it wrote in its prefix at start)
  doctor [--service S] [--route R] [--json] [--keepalive-wait SECONDS] [-c conf] [-p prefix]
                                 Run the troubleshooting checklist from the running gateway: DNS, TCP, TLS,
                                 an HTTP probe and keep-alive per service, and the route checks; exit code
                                 0 ok, 1 warnings, 2 errors, 3 not running, 4 unknown service/route
  trace METHOD URL [-H 'Name: value']... [--body TEXT|@FILE] [--client-ip IP] [--send] [--json] [-p prefix]
                                 Explain a request before it is sent: the route and near misses, each plugin's
                                 decision, the upstream request and the balancer's pick (docs/trace.md);
                                 --send also sends it and times DNS, connect, TLS, first byte. Exit 0 when it
                                 would reach the upstream, 1 when the gateway would answer it itself
  check [-c conf | conf]         Validate a configuration file and say what is wrong
  version [-a]                   Print the version
  config SUBCOMMAND [-c conf]    Declarative configuration: dump, diff, sync, validate, init, db_import, db_export
                                 (turnpike config --help for details)
  migrations SUBCOMMAND          Database migrations, as Kong's: bootstrap, up, finish, list, reset --yes
                                 (turnpike migrations --help for details)

Options:
  -c, --conf FILE                kong.conf-syntax configuration file
  -p, --prefix DIR               prefix directory (overrides the 'prefix' setting)
  -h, --help                     this help

Every setting can also come from the environment: TURNPIKE_<NAME> (or KONG_<NAME>).
`

/** The commands, for "did you mean". */
const COMMANDS = ['start', 'stop', 'health', 'doctor', 'trace', 'check', 'version', 'config', 'migrations']

export function configFrom(args: ParsedArgs): GatewayConfig {
  const overrides: Record<string, string> = {}
  if (args.prefix !== undefined) overrides['prefix'] = args.prefix
  return loadConfig({ ...(args.conf !== undefined ? { confPath: args.conf } : {}), overrides })
}

export async function main(argv: readonly string[]): Promise<number> {
  let args: ParsedArgs
  try {
    args = parseArgs(argv)
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`Error: ${err.message}\n\n${USAGE}`)
      return 2
    }
    throw err
  }
  if ((args.help && args.command !== 'config' && args.command !== 'migrations') || args.command === undefined) {
    process.stdout.write(USAGE)
    return args.command === undefined && !args.help ? 2 : 0
  }
  try {
    switch (args.command) {
      case 'start':
        return await startCommand(configFrom(args))
      case 'stop':
        return await stopCommand(configFrom(args))
      case 'health':
        return await healthCommand(configFrom(args))
      case 'doctor':
        return await doctorCommand(configFrom(args), args)
      case 'trace':
        return await traceCommand(args, () => configFrom(args))
      case 'check': {
        const file = args.positional[0] ?? args.conf
        const config = loadConfig(file !== undefined ? { confPath: file } : {})
        process.stdout.write(
          `configuration${file !== undefined ? ` at ${file}` : ''} is valid (database=${config.database}, proxy_listen=${config.raw['proxy_listen'] ?? ''})\n`,
        )
        return 0
      }
      case 'config':
        return await configCommand(args, () => configFrom(args))
      case 'migrations':
        return await migrationsCommand(args, () => configFrom(args))
      case 'version':
        process.stdout.write(
          args.all ? `${PRODUCT} ${VERSION}\nkong compatibility: ${KONG_COMPAT_VERSION}\nnode: ${process.version}\n` : `${VERSION}\n`,
        )
        return 0
      default: {
        const hint = closestCommand(args.command, COMMANDS)
        process.stderr.write(
          `Error: unknown command '${args.command}'${hint === undefined ? '' : ` (did you mean '${hint}'?)`}\n\n${USAGE}`,
        )
        return 2
      }
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Error: ${err.message}\n`)
      return 1
    }
    if (err instanceof Error && err.name === 'StartError') {
      process.stderr.write(`Error: ${err.message}\n`)
      return 1
    }
    process.stderr.write(`Error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    return 1
  }
}
