/**
 * Several nodes on one PostgreSQL database: the writes other nodes (or `turnpike config
 * db_import`) commit reach this node's workers within moments. Each change event names the
 * entity, whose rows are read again (coalesced with other changes); after the change channel was
 * lost and came back, everything is read again, since events sent meanwhile are gone. Both
 * transitions of the channel are logged once, and the channel's state is the node's view of the
 * database (`down()`): the Admin API answers 503 while it is lost, `/status/ready` not ready.
 *
 * @module
 */
import type { ErrorLog } from '../observability/error-log.js'
import type { ChangeListener, PostgresStore } from '../store/index.js'
import type { ConfigPublisher } from './config-publisher.js'

/** The change channel, and the database's state as it sees it. */
export interface OtherNodes {
  /** Close it on shutdown. */
  readonly listener: ChangeListener
  /** Why the database is unreachable (the channel is lost), or null while it listens. */
  down(): Error | null
}

/** Starts following the other nodes' writes. */
export async function followOtherNodes(
  store: PostgresStore,
  publisher: ConfigPublisher,
  changed: () => void,
  log: ErrorLog,
): Promise<OtherNodes> {
  let lost: Error | null = null
  const listener = await store.listen(
    (event) => {
      changed()
      if (event.kind === 'resync') void publisher.reloadAll()
      else publisher.reloadEntities([event.entity])
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
  return { listener, down: () => lost }
}
