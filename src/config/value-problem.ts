/**
 * The error value parsers throw; the loader turns it into a {@link ConfigError} that names the
 * setting and where its value came from.
 *
 * @module
 */

/** A value failed validation. `value`, when given, is the part at fault (e.g. one listen entry). */
export class ValueProblem extends Error {
  readonly value: string | undefined

  constructor(problem: string, value?: string) {
    super(problem)
    this.name = 'ValueProblem'
    this.value = value
  }
}
