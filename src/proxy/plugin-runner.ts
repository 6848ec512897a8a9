/**
 * Kong's plugin phase iterator over one request: rewrite (global instances, before routing),
 * access (the route's plan, collected with the consumer known at that point), then header_filter,
 * body_filter and log over the instances access collected. A rewrite or access handler may end
 * the request (`kong.response.exit` / `error`): the handlers after it in that phase do not run,
 * the response phases still do. A handler may return a promise: its phase resumes when it settles.
 */
import { RequestPdk } from '../pdk/pdk.js'
import { resolveEntry, type PluginInstance, type PluginPlan } from '../plugins/plan.js'
import type { RequestContext } from './request-context.js'
import { logPluginError } from './request-log.js'

/** The request's PDK (`kong`), made on first use. */
export function pdkOf(ctx: RequestContext): RequestPdk {
  return (ctx.pdk ??= new RequestPdk(ctx))
}

/**
 * Runs the global rewrite handlers (before routing) from the next one on, synchronously when
 * they are, then hands over to the runloop (`afterRewrite`).
 */
export function runRewrite(ctx: RequestContext): void {
  const list = ctx.snapshot.rewrite
  while (ctx.rewriteIndex < list.length) {
    const inst = list[ctx.rewriteIndex++] as PluginInstance
    if (inst.plugin.rewrite === undefined || ctx.exitResponse !== null) continue
    if (!invoke(ctx, inst, 'rewrite')) return
  }
  ctx.afterRewrite()
}

/**
 * Kong's collecting iterator: every plugin of the plan is collected (its configuration picked
 * with the consumer known at that point) so that later phases run it; access handlers stop
 * running once one has ended the request. Then hands over to the runloop (`afterAccess`).
 */
export function runAccess(ctx: RequestContext): void {
  const entries = (ctx.plan as PluginPlan).entries
  const https = ctx.d.scheme === 'https'
  while (ctx.accessIndex < entries.length) {
    const entry = entries[ctx.accessIndex++] as PluginPlan['entries'][number]
    const inst = resolveEntry(entry, ctx.consumer?.id ?? null)
    if (inst === null || !(https ? inst.https : inst.http)) continue
    ctx.collected.push(inst)
    if (inst.plugin.access === undefined || ctx.exitResponse !== null) continue
    if (!invoke(ctx, inst, 'access')) return
  }
  ctx.afterAccess()
}

/**
 * Calls one rewrite/access handler. Returns true when it completed synchronously (go on);
 * false when the request continues later: its phase resumes after a returned promise settles,
 * or never (the handler threw and the 500 is sent).
 */
function invoke(ctx: RequestContext, inst: PluginInstance, phase: 'rewrite' | 'access'): boolean {
  const kong = pdkOf(ctx)
  kong.enter(inst.name, inst.id)
  let result: void | Promise<void>
  try {
    const handler = phase === 'access' ? inst.plugin.access : inst.plugin.rewrite
    result = handler?.call(inst.plugin, kong, inst.conf)
  } catch (err) {
    ctx.pluginFailed(inst, phase, err)
    return false
  }
  if (!(result instanceof Promise)) return true
  result.then(
    () => (ctx.clientGone ? ctx.finish() : phase === 'access' ? runAccess(ctx) : runRewrite(ctx)),
    (err: unknown) => ctx.pluginFailed(inst, phase, err),
  )
  return false
}

/** Instances for the response and log phases: those collected in access, else the plan's defaults. */
function responsePlugins(ctx: RequestContext): readonly PluginInstance[] {
  if (ctx.collected.length > 0 || ctx.accessIndex > 0) return ctx.collected
  const plan = ctx.plan
  if (plan === null) return []
  const https = ctx.d.scheme === 'https'
  for (const e of plan.entries) {
    const inst = resolveEntry(e, ctx.consumer?.id ?? null)
    if (inst !== null && (https ? inst.https : inst.http)) ctx.collected.push(inst)
  }
  ctx.accessIndex = -1 // collected once
  return ctx.collected
}

/** header_filter over the response headers (proxied or generated); errors are logged, not fatal. */
export function headerFilter(ctx: RequestContext): void {
  if (ctx.plan === null || !ctx.plan.hasHeaderFilter) return
  for (const inst of responsePlugins(ctx)) {
    const handler = inst.plugin.headerFilter
    if (handler === undefined) continue
    const kong = pdkOf(ctx)
    kong.enter(inst.name, inst.id)
    try {
      handler.call(inst.plugin, kong, inst.conf)
    } catch (err) {
      logPluginError(ctx, inst, 'header_filter', err)
    }
  }
}

/** body_filter over one chunk (`eof`: the last call, maybe with an empty chunk); errors are logged. */
export function bodyFilter(ctx: RequestContext, chunk: Buffer, eof: boolean): Buffer {
  let out = chunk
  for (const inst of responsePlugins(ctx)) {
    const handler = inst.plugin.bodyFilter
    if (handler === undefined) continue
    const kong = pdkOf(ctx)
    kong.enter(inst.name, inst.id)
    try {
      const replaced = handler.call(inst.plugin, kong, inst.conf, out, eof)
      if (replaced !== undefined) out = replaced
    } catch (err) {
      logPluginError(ctx, inst, 'body_filter', err)
    }
  }
  return out
}

/** The log phase, off the response path (the client already has its answer). */
export function logPhase(ctx: RequestContext): void {
  if (ctx.plan === null || !ctx.plan.hasLog) return
  const list = responsePlugins(ctx).filter((i) => i.plugin.log !== undefined)
  if (list.length === 0) return
  setImmediate(() => {
    for (const inst of list) {
      const kong = pdkOf(ctx)
      kong.enter(inst.name, inst.id)
      try {
        const r = (inst.plugin.log as NonNullable<PluginInstance['plugin']['log']>).call(inst.plugin, kong, inst.conf)
        if (r instanceof Promise) r.catch((err: unknown) => logPluginError(ctx, inst, 'log', err))
      } catch (err) {
        logPluginError(ctx, inst, 'log', err)
      }
    }
  })
}
