/** What an error may say besides its code and message. */
export interface AppErrorOptions {
  /** Whether the same work, tried again unchanged, may succeed. False unless said: see `isRetriable`. */
  readonly retriable?: boolean;
  readonly cause?: unknown;
  /** Facts a caller may act on (which product, which field); an HTTP service shows them to its client. */
  readonly details?: unknown;
}

/**
 * The one error root. Callers and clients branch on `code` (UPPER_SNAKE, stable), never on the message,
 * which is for people and may change; `retriable` lets the messaging layer choose between the retry topic
 * and the DLQ without knowing the error's class. It knows nothing of transports: an HTTP service maps
 * codes to statuses at its edge, so the same error can be an HTTP answer or a dead letter.
 *
 * A subclass fixes its code and retriability by what it passes to `super`. `C` narrows the codes it may
 * carry, so that a table keyed by them (an HTTP status per code) is checked for completeness.
 */
export class AppError<C extends string = string> extends Error {
  readonly code: C;
  readonly retriable: boolean;
  readonly details?: unknown;

  constructor(code: C, message: string, options: AppErrorOptions = {}) {
    // An undefined cause is no cause: subclasses pass an optional one straight through.
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    // The class's own name, so a log line or a DLQ reason says which error it was.
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.details = options.details;
  }
}
