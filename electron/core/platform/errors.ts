/**
 * The one error family: a failure with a code, a message and whether signing in fixes it. The engine, the
 * agent, the client, the CLI and the window all throw and catch this; it crosses the socket and IPC as the
 * plain `Failure` (shared/api.ts). The agent maps codes to HTTP statuses in one table (agent/server.ts), the
 * CLI maps errors to exit codes in one function (cli/io.ts).
 */
import type { Failure } from '../../shared/api.js';

export type { Failure };

export interface ErrorHints {
  needsSignIn?: boolean;
  /** The HTTP status, when one call must answer differently from the code's usual status (or came over the socket). */
  status?: number;
  cause?: unknown;
}

export class PocketKubeError extends Error {
  override name = 'PocketKubeError';
  readonly needsSignIn: boolean;
  readonly status?: number;

  constructor(
    readonly code: string,
    message: string,
    hints: ErrorHints = {},
  ) {
    super(message, hints.cause === undefined ? undefined : { cause: hints.cause });
    this.needsSignIn = hints.needsSignIn ?? false;
    if (hints.status !== undefined) this.status = hints.status;
  }

  /** As data: `needsSignIn` is there only when signing in is the fix. */
  toFailure(): Failure {
    return { code: this.code, message: this.message, ...(this.needsSignIn ? { needsSignIn: true } : {}) };
  }

  static fromFailure(failure: Failure, hints: Omit<ErrorHints, 'needsSignIn'> = {}): PocketKubeError {
    return new PocketKubeError(failure.code, failure.message, { ...hints, needsSignIn: Boolean(failure.needsSignIn) });
  }
}

/** Input the user can fix by asking differently: a bad name, URL or flag. The agent answers 400, the CLI exits 2. */
export class UsageError extends PocketKubeError {
  override name = 'UsageError';

  constructor(message: string, code = 'invalid') {
    super(code, message);
  }
}
