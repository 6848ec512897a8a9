/**
 * Several nodes on one PostgreSQL database: the writes other nodes (or `turnpike config
 * db_import`, or a tool using SQL) commit reach this node's workers. Each change event names the
 * entity, whose rows are read again (coalesced with other changes); after the change channel was
 * lost and came back, everything is read again, since events sent meanwhile are gone; and every
 * `db_update_frequency` seconds a consistency check catches what no event announced
 * (consistency-check.ts). A change found either way is applied `db_update_propagation` seconds
 * later (0 by default, as in Kong).
 *
 * The database is down for this node while the change channel is lost or while the store's own
 * queries find it unreachable (pg-reach.ts: the first query that times out or is refused says so).
 * Then the Admin API answers 503 and `/status/ready` not ready. Each transition is logged once.
 *
 * @module
 */
import type { ErrorLog } from '../observability/error-log.js'
import type { ChangeEvent, ChangeListener, PostgresStore } from '../store/index.js'
import type { ConfigPublisher } from './config-publisher.js'
import { ConsistencyCheck, settingMs } from './consistency-check.js'

/** The change channel and check, and the database's state as they see it. */
export interface OtherNodes {
  /** Why the database is unreachable (the channel is lost, or the store's queries fail), or null. */
  down(): Error | null
  /** This node committed a change of `entity` (the check does not report it as unannounced). */
  ownChange(entity: string): void
  /** Stops listening and checking (shutdown). */
  close(): Promise<void>
}

/** `db_update_frequency` and `db_update_propagation`, seconds (Kong's settings). */
export interface UpdateTiming {
  readonly frequency: number
  readonly propagation: number
}

/** Most entities waiting for `db_update_propagation` at once; beyond it everything is read again. */
const MAX_PENDING = 1000

/**
 * Applies change events `delayMs` after they arrive, coalesced under one timer (none when 0).
 * Returns the handler and a function cancelling what waits.
 */
function delayed(publisher: ConfigPublisher, delayMs: number): { apply: (event: ChangeEvent) => void; cancel: () => void } {
  const now = (event: ChangeEvent): void => {
    if (event.kind === 'resync') void publisher.reloadAll()
    else publisher.reloadEntities([event.entity])
  }
  if (delayMs === 0) return { apply: now, cancel: () => {} }
  const pending = new Set<string>()
  let all = false
  let timer: NodeJS.Timeout | null = null
  return {
    apply: (event) => {
      if (event.kind === 'resync' || pending.size >= MAX_PENDING) all = true
      else pending.add(event.entity)
      if (timer !== null) return
      timer = setTimeout(() => {
        timer = null
        if (all) void publisher.reloadAll()
        else publisher.reloadEntities([...pending])
        all = false
        pending.clear()
      }, delayMs)
      timer.unref()
    },
    cancel: () => {
      if (timer !== null) clearTimeout(timer)
    },
  }
}

/** Starts following the other nodes' writes (call before the first load: nothing committed in between is missed). */
export async function followOtherNodes(
  store: PostgresStore,
  publisher: ConfigPublisher,
  changed: () => void,
  log: ErrorLog,
  timing: UpdateTiming,
): Promise<OtherNodes> {
  const check = new ConsistencyCheck({
    read: () => store.changeCounters(),
    reload: async (entities) => {
      const failures = publisher.failures
      changed()
      publisher.reloadEntities(entities)
      await publisher.settled()
      return publisher.failures === failures
    },
    frequency: timing.frequency,
    propagation: timing.propagation,
    log,
  })
  const events = delayed(publisher, settingMs(timing.propagation))
  store.reach.onChange((down) => {
    if (down !== null) {
      log.error(
        `the database cannot be reached (${down.message}): Admin API requests that need it answer 503 and the proxy keeps serving the last configuration it loaded, until a query succeeds again`,
      )
    } else log.notice('the database answers again')
  })
  let lost: Error | null = null
  const listener: ChangeListener = await store.listen(
    (event) => {
      changed()
      if (event.kind === 'resync') check.announcedAll()
      else check.announced(event.entity)
      events.apply(event)
    },
    (connected, err) => {
      if (!connected && lost === null) {
        lost = err ?? new Error('closed')
        log.error(
          `lost the database change channel (${err?.message ?? 'closed'}): other nodes' changes wait until it is back; reconnecting`,
        )
      } else if (connected && lost !== null) {
        lost = null
        log.notice("listening to the database's changes again: reloading the configuration")
      }
    },
  )
  await check.baseline()
  check.start()
  return {
    down: () => lost ?? store.reach.down,
    ownChange: (entity) => check.announced(entity),
    close: async () => {
      check.close()
      events.cancel()
      await listener.close()
    },
  }
}
