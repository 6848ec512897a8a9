/**
 * The set-up most plugin integration tests share: an echo upstream, the real gateway, a service
 * `svc` pointing at the upstream, then routes with their plugins added through the Admin API and
 * a `settle()` that waits until the workers run that configuration. {@link pluginSuite} wires it
 * into a `describe` block's `before`/`after` hooks.
 */
import { after, before } from 'node:test'
import type { GatewayOptions, JsonResponse, TestGateway } from './gateway.js'
import { startTestGateway } from './gateway.js'
import { type Handler, startUpstream, type TestUpstream } from './upstream.js'
import { admin, settle } from '../integration/proxy/helpers.js'

/** A plugin to add on a route: its name and optional config. */
export interface PluginSpec {
  readonly name: string
  readonly config?: unknown
}

export interface FixtureOptions {
  readonly settings?: GatewayOptions['settings']
  readonly workers?: number
  /** The upstream's handler; by default the echo server. */
  readonly upstream?: Handler
  /** Appended to the upstream URL as the service's path (e.g. `/base`). */
  readonly servicePath?: string
}

export interface PluginFixture {
  readonly gw: TestGateway
  readonly up: TestUpstream
  /** An Admin API call that fails unless it answers 200/201 (POST by default). */
  admin(path: string, body: unknown, method?: string): Promise<JsonResponse>
  /**
   * Adds route `name` on service `svc` (paths `/<name>` unless `fields` says otherwise), then
   * each plugin on it in order; returns the route's Admin API answer.
   */
  route(name: string, plugins?: readonly PluginSpec[], fields?: Readonly<Record<string, unknown>>): Promise<JsonResponse>
  /** Waits until the proxy runs every change made so far. */
  settle(): Promise<void>
  /** Stops the gateway, then the upstream. */
  stop(): Promise<void>
}

/** Starts the upstream, then the gateway, and creates service `svc` (both stopped again if that fails). */
export async function withGateway(opts: FixtureOptions = {}): Promise<PluginFixture> {
  const up = await startUpstream(opts.upstream)
  let gw: TestGateway
  try {
    gw = await startTestGateway({
      ...(opts.settings !== undefined ? { settings: opts.settings } : {}),
      ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
    })
  } catch (e) {
    await up.close()
    throw e
  }
  const fixture: PluginFixture = {
    gw,
    up,
    admin: (path, body, method) => admin(gw, path, body, method),
    async route(name, plugins = [], fields = {}) {
      const res = await admin(gw, '/services/svc/routes', { name, paths: [`/${name}`], ...fields })
      for (const plugin of plugins) await admin(gw, `/routes/${name}/plugins`, plugin)
      return res
    },
    settle: () => settle(gw),
    async stop() {
      await gw.stop()
      await up.close()
    },
  }
  try {
    await fixture.admin('/services', { name: 'svc', url: `${up.url}${opts.servicePath ?? ''}` })
  } catch (e) {
    await fixture.stop()
    throw e
  }
  return fixture
}

/**
 * The usual prelude of a plugin test suite, as hooks of the enclosing `describe`: `before` starts
 * the fixture ({@link withGateway}), runs `setup` (routes, plugins, consumers…) and settles;
 * `after` stops it. The handle it returns reads through to the fixture once `before` has run
 * (`fx.gw`, `fx.up`, `fx.admin(…)` inside tests).
 */
export function pluginSuite(opts: FixtureOptions = {}, setup?: (fx: PluginFixture) => Promise<void>): PluginFixture {
  let started: PluginFixture | null = null
  const fx = (): PluginFixture => {
    if (started === null) throw new Error("the plugin fixture is started by the suite's before() hook")
    return started
  }
  before(async () => {
    started = await withGateway(opts)
    await setup?.(started)
    await started.settle()
  })
  after(() => started?.stop())
  return {
    get gw() {
      return fx().gw
    },
    get up() {
      return fx().up
    },
    admin: (path, body, method) => fx().admin(path, body, method),
    route: (name, plugins, fields) => fx().route(name, plugins, fields),
    settle: () => fx().settle(),
    stop: () => fx().stop(),
  }
}
