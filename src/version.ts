/** Turnpike's version, and the Kong version whose behaviour it reproduces. */
export const VERSION = '0.1.0'
/** Kong's Admin API clients (decK, Kong Manager) read a Kong-style version; we report the one we follow. */
export const KONG_COMPAT_VERSION = '3.9.3'
export const PRODUCT = 'turnpike'
