/**
 * The shapes headers take between the server adapter, the runloop, the PDK and the upstream
 * client: an object with lower-case names, or a flat list as the peer wrote them.
 *
 * @module
 */

/** Request headers as a plain object with lower-case names (as node and most runtimes give them). */
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>
/** Response headers: lower-case names; arrays for repeated headers such as set-cookie. */
export type ResponseHeaders = Record<string, string | string[]>
/**
 * Headers as a flat `[name, value, name, value …]` list, names as the peer wrote them and repeated
 * names repeated. This is how an upstream response arrives and how it is forwarded when no plugin
 * looks at it: no object is built, nothing is deleted from one.
 */
export type HeaderList = string[]
