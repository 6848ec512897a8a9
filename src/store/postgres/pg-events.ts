/**
 * Change events between nodes sharing one PostgreSQL database: every committed write sends a
 * NOTIFY on {@link CHANGES_CHANNEL} naming its origin (one store handle), the entity and the row
 * id; {@link ChangeListener} keeps one dedicated connection LISTENing and hands the events of
 * other origins over. When that connection breaks it reconnects by itself (backing off up to a
 * few seconds) and then reports a `resync`, since events sent meanwhile are lost.
 *
 * @module
 */
import pg from 'pg'

/** The NOTIFY channel of row changes. */
export const CHANGES_CHANNEL = 'turnpike_changes'

/** How often the listening connection is checked (Kong's `db_update_frequency` default, 5 s). */
const PING_MS = 5000

/** NOTIFY payloads are limited to 8000 bytes; an id that does not fit is left out (the listener reloads the entity). */
const MAX_PAYLOAD = 7900

/** A change another store handle committed, or `resync`: events may have been missed, reload everything. */
export type ChangeEvent =
  { readonly kind: 'change'; readonly origin: string; readonly entity: string; readonly id: string | null } | { readonly kind: 'resync' }

/** The NOTIFY payload of one changed row. */
export function changePayload(origin: string, entity: string, id: string): string {
  const full = JSON.stringify({ o: origin, e: entity, i: id })
  return Buffer.byteLength(full) <= MAX_PAYLOAD ? full : JSON.stringify({ o: origin, e: entity })
}

/** Reads a payload; null when it is not one of ours. */
export function parseChange(payload: string | undefined): ChangeEvent | null {
  if (payload === undefined || payload.length > MAX_PAYLOAD) return null
  let v: unknown
  try {
    v = JSON.parse(payload)
  } catch {
    return null
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null
  const { o, e, i } = v as { o?: unknown; e?: unknown; i?: unknown }
  if (typeof o !== 'string' || typeof e !== 'string') return null
  return { kind: 'change', origin: o, entity: e, id: typeof i === 'string' ? i : null }
}

/** Connection settings of the listening connection. */
export type ListenConfig = pg.ClientConfig

/** One LISTENing connection that survives database restarts. */
export class ChangeListener {
  readonly #config: ListenConfig
  readonly #origin: string
  readonly #onEvent: (event: ChangeEvent) => void
  readonly #onState: (connected: boolean, err?: Error) => void
  #client: pg.Client | null = null
  #timer: NodeJS.Timeout | null = null
  #ping: NodeJS.Timeout | null = null
  #closed = false
  #backoffMs = 100
  #connected = false

  /**
   * @param origin events of this origin (the node's own writes) are not handed over
   * @param onState called on each transition: listening, or lost (with the error)
   */
  constructor(
    config: ListenConfig,
    origin: string,
    onEvent: (event: ChangeEvent) => void,
    onState: (connected: boolean, err?: Error) => void,
  ) {
    this.#config = config
    this.#origin = origin
    this.#onEvent = onEvent
    this.#onState = onState
  }

  /** Connects and LISTENs; resolves after the first attempt (a failed one is retried, and reported to `onState`). */
  async start(): Promise<void> {
    try {
      await this.#connect(false)
    } catch (err) {
      this.#onState(false, err as Error)
    }
  }

  async #connect(resync: boolean): Promise<void> {
    const client = new pg.Client(this.#config)
    client.on('error', (err) => this.#lost(client, err))
    client.on('end', () => this.#lost(client, new Error('connection closed')))
    client.on('notification', (msg) => {
      if (msg.channel !== CHANGES_CHANNEL) return
      const event = parseChange(msg.payload)
      if (event !== null && event.kind === 'change' && event.origin !== this.#origin) this.#onEvent(event)
    })
    this.#client = client
    try {
      await client.connect()
      await client.query(`LISTEN ${CHANGES_CHANNEL}`)
    } catch (err) {
      this.#lost(client, err as Error)
      throw err
    }
    if (this.#closed) {
      await client.end().catch(() => {})
      return
    }
    this.#backoffMs = 100
    this.#connected = true
    this.#onState(true)
    if (resync) this.#onEvent({ kind: 'resync' })
    this.#schedulePing(client)
  }

  /**
   * A connection that died silently (a network partition sends no reset) would wait for the
   * kernel's keepalive, hours: a query every few seconds (failing after the query timeout) finds out.
   */
  #schedulePing(client: pg.Client): void {
    this.#ping = setTimeout(() => {
      this.#ping = null
      if (this.#client !== client) return
      client.query('SELECT 1').then(
        () => this.#schedulePing(client),
        (err: unknown) => this.#lost(client, err as Error),
      )
    }, PING_MS)
    this.#ping.unref()
  }

  #lost(client: pg.Client, err: Error): void {
    if (this.#client !== client || this.#closed) return
    this.#client = null
    client.end().catch(() => {})
    if (this.#connected) {
      this.#connected = false
      this.#onState(false, err)
    }
    const delay = this.#backoffMs
    this.#backoffMs = Math.min(this.#backoffMs * 2, 5000)
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.#connect(true).catch(() => {
        // #lost scheduled the next attempt
      })
    }, delay)
  }

  async close(): Promise<void> {
    this.#closed = true
    if (this.#timer !== null) clearTimeout(this.#timer)
    if (this.#ping !== null) clearTimeout(this.#ping)
    const client = this.#client
    this.#client = null
    if (client !== null) await client.end().catch(() => {})
  }
}
