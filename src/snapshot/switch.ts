/**
 * Holds the snapshot a worker serves and replaces it atomically. A configuration that fails to
 * compile never replaces a working one: the previous snapshot keeps serving and the caller gets
 * the reason to log.
 */
import { buildSnapshot, type ConfigPayload, type ConfigSnapshot } from './snapshot.js'

export type ApplyResult =
  | { readonly ok: true; readonly snapshot: ConfigSnapshot; readonly compileMs: number }
  | { readonly ok: false; readonly error: string; readonly serving: number | null }

export class SnapshotSwitch {
  #current: ConfigSnapshot | null = null
  readonly #build: (payload: ConfigPayload) => ConfigSnapshot

  constructor(build: (payload: ConfigPayload) => ConfigSnapshot = buildSnapshot) {
    this.#build = build
  }

  get current(): ConfigSnapshot | null {
    return this.#current
  }

  apply(payload: ConfigPayload): ApplyResult {
    const started = performance.now()
    if (this.#current !== null && payload.version <= this.#current.version) {
      // An older configuration arriving late must not undo a newer one.
      return {
        ok: false,
        error: `version ${payload.version} is older than the one served (${this.#current.version})`,
        serving: this.#current.version,
      }
    }
    try {
      const snapshot = this.#build(payload)
      this.#current = snapshot
      return { ok: true, snapshot, compileMs: performance.now() - started }
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err), serving: this.#current?.version ?? null }
    }
  }
}
