/**
 * Errors a user can cause. Each names the thing that is wrong and what to do about it, so the CLI
 * can print `error.message` alone (no stack trace) and exit non-zero. `--debug` shows the stack.
 */

/** Base class of every error introdl raises on purpose. `exitCode` is what the CLI exits with. */
export class IntrodlError extends Error {
  readonly exitCode: number = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A file exists but its content is wrong: truncated, corrupt, another format, another model. */
export class BadFileError extends IntrodlError {
  constructor(
    readonly file: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${problem}`, options);
  }
}

/** A file or folder the command needs is not there. */
export class MissingFileError extends IntrodlError {
  constructor(
    readonly file: string,
    hint = '',
  ) {
    super(`${file}: no such file or folder${hint ? `. ${hint}` : ''}`);
  }
}

/** A data set cannot be found anywhere it is looked for, and cannot be downloaded. */
export class MissingDataError extends IntrodlError {}

/** A tensor or array has the wrong shape. */
export class BadShapeError extends IntrodlError {
  constructor(what: string, expected: readonly (number | null)[] | string, actual: readonly number[]) {
    const exp = typeof expected === 'string' ? expected : `[${expected.map((d) => d ?? '?').join(', ')}]`;
    super(`${what}: expected shape ${exp}, got [${actual.join(', ')}]`);
  }
}

/** A command-line flag or option value is not valid. */
export class BadFlagError extends IntrodlError {
  override readonly exitCode = 2;
}

/** A backend was asked for by name but cannot run here. */
export class BackendUnavailableError extends IntrodlError {}

/** Throws a {@link BadShapeError} unless `actual` matches `expected` (`null` matches any size). */
export function assertShape(what: string, actual: readonly number[], expected: readonly (number | null)[]): void {
  const ok = actual.length === expected.length && expected.every((d, i) => d === null || d === actual[i]);
  if (!ok) throw new BadShapeError(what, expected, actual);
}
