/**
 * Several nodes on one PostgreSQL database: the writes other nodes (or `turnpike config
 * db_import`) commit reach this node's workers within moments. Each change event names the
 * entity, whose rows are read again (coalesced with other changes); after the change channel was
 * lost and came back, everything is read again, since events sent meanwhile are gone. Both
 * transitions of the channel are logged once.
 *
 * @module
 */
import type { ErrorLog } from '../observability/error-log.js'
import type { ChangeListener, PostgresStore } from '../store/index.js'
import type { ConfigPublisher } from './config-publisher.js'

/** Starts following the other nodes' writes; close the returned listener on shutdown. */
export function followOtherNodes(
  store: PostgresStore,
  publisher: ConfigPublisher,
  changed: () => void,
  log: ErrorLog,
): Promise<ChangeListener> {
  let lost = false
  return store.listen(
    (event) => {
      changed()
      if (event.kind === 'resync') void publisher.reloadAll()
      else publisher.reloadEntities([event.entity])
    },
    (connected, err) => {
      if (!connected && !lost) {
        lost = true
        log.error(
          `lost the database change channel (${err?.message ?? 'closed'}): other nodes' changes wait until it is back; reconnecting`,
        )
      } else if (connected && lost) {
        lost = false
        log.notice("listening to the database's changes again: reloading the configuration")
      }
    },
  )
}
