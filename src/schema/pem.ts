/**
 * PEM certificates and keys for Kong's `typedefs.certificate` / `typedefs.key`: parsing with
 * node:crypto, and the messages Kong's checks give (`invalid certificate: …`, `invalid key: …`).
 *
 * @module
 */
import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto'
import { isVaultReference } from './validate-field.js'

/** The certificate, or undefined when the text is not a PEM certificate. */
export function parseCertificate(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem)
  } catch {
    return undefined
  }
}

/** The private key, or undefined when the text is not a PEM private key. */
export function parsePrivateKey(pem: string): KeyObject | undefined {
  try {
    return createPrivateKey(pem)
  } catch {
    return undefined
  }
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** Kong's `validate_certificate`: `invalid certificate: x509.new: <reason>`. */
export function validateCertificate(pem: string): string | undefined {
  try {
    new X509Certificate(pem)
    return undefined
  } catch (err) {
    return `invalid certificate: x509.new: ${reason(err)}`
  }
}

/**
 * Kong's `validate_key` (`resty.openssl.pkey.new`, which takes private and public keys):
 * `invalid key: pkey.new:load_key: <reason>`.
 */
export function validateKey(pem: string): string | undefined {
  try {
    createPrivateKey(pem)
    return undefined
  } catch (err) {
    try {
      createPublicKey(pem)
      return undefined
    } catch {
      return `invalid key: pkey.new:load_key: ${reason(err)}`
    }
  }
}

/** Whether the private key is the one of the certificate's public key. */
export function keyMatchesCertificate(cert: X509Certificate, key: KeyObject): boolean {
  return key.type === 'private' && cert.checkPrivateKey(key)
}

/**
 * Kong's `typedefs.pem` check (`validate_pem_keys`): each key given must load, and a pair must
 * match. The messages are Kong's, including the private key's reason glued to it.
 */
export function validatePemKeys(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const { private_key: priv, public_key: pub } = value as Record<string, unknown>
  // Kong: unless one of them is a vault reference (resolved when the configuration is compiled).
  if ([priv, pub].some((k) => typeof k === 'string' && isVaultReference(k))) return undefined
  let publicKey: KeyObject | undefined
  let privateKey: KeyObject | undefined
  if (typeof pub === 'string') {
    try {
      if (pub.includes('PRIVATE KEY')) throw new Error('not a public key')
      publicKey = createPublicKey(pub)
    } catch {
      return 'could not load public key'
    }
  }
  if (typeof priv === 'string') {
    try {
      privateKey = createPrivateKey(priv)
    } catch (err) {
      return `could not load private keypkey.new:load_key: ${reason(err)}`
    }
  }
  if (publicKey !== undefined && privateKey !== undefined) {
    const derived = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' })
    if (derived !== publicKey.export({ type: 'spki', format: 'pem' })) return 'public key does not match private key'
  }
  return undefined
}

/** Kong's `typedefs.jwk` check: the JSON Web Key must load as a key. */
export function validateJwkKey(jwk: Record<string, unknown>): string | undefined {
  try {
    if (typeof jwk['d'] === 'string') createPrivateKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' })
    else createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' })
    return undefined
  } catch {
    return 'could not load JWK, likely not a valid key'
  }
}
