/** Clamps a page size to Kong's 1–1000 range (the DAO validates and reports the user's value). */
export function clampSize(size: number): number {
  if (!Number.isFinite(size)) return 100
  return Math.min(1000, Math.max(1, Math.floor(size)))
}
