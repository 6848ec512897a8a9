/**
 * Admin API errors that are not DAO errors: they carry their HTTP status and body directly.
 *
 * @module
 */

/** An HTTP answer raised from deep inside a handler (`throw notFound()`). */
export class AdminHttpError extends Error {
  readonly status: number
  readonly body: unknown
  constructor(status: number, body?: unknown) {
    super(
      typeof body === 'object' && body !== null && 'message' in body ? String((body as { message: unknown }).message) : `HTTP ${status}`,
    )
    this.name = 'AdminHttpError'
    this.status = status
    this.body = body
  }
}

/** 404 `{"message":"Not found"}`. */
export function notFound(): AdminHttpError {
  return new AdminHttpError(404, { message: 'Not found' })
}

/** 405 `{"message":"Method not allowed"}`. */
export function methodNotAllowed(): AdminHttpError {
  return new AdminHttpError(405, { message: 'Method not allowed' })
}

/** 400 with a plain message. */
export function badRequest(message: string): AdminHttpError {
  return new AdminHttpError(400, { message })
}
