// Every error code authwatch answers with, and its HTTP status. Clients get {code, message}
// and never internals. docs/errors.md is checked against this list by a test.
export const ERROR_CODES = {
  BAD_REQUEST: { status: 400, message: 'The request is malformed.' },
  VALIDATION_FAILED: { status: 400, message: 'The request does not match the schema.' },
  INVALID_CURSOR: { status: 400, message: 'The cursor is not valid.' },
  TOKEN_IN_QUERY: { status: 400, message: 'Access tokens are not accepted in the query string.' },
  UNAUTHORIZED: { status: 401, message: 'A valid bearer token is required.' },
  INVALID_TOKEN: { status: 401, message: 'The access token is invalid.' },
  INSUFFICIENT_SCOPE: { status: 403, message: 'The access token lacks the required scope.' },
  FORBIDDEN: { status: 403, message: 'Forbidden.' },
  NOT_FOUND: { status: 404, message: 'Not found.' },
  CONFLICT: { status: 409, message: 'The resource is not in a state that allows this change.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported content type.' },
  RULES_INVALID: { status: 422, message: 'The rule set has errors; the running rules were kept.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests.' },
  INTERNAL: { status: 500, message: 'Internal error.' },
  AUTH_UNAVAILABLE: { status: 503, message: 'Token verification is temporarily unavailable.' },
  NOT_READY: { status: 503, message: 'The service is not ready.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error meant for a client: a stable code, a safe message, never token material. */
export class AppError extends Error {
  readonly status: number;
  constructor(readonly code: ErrorCode, message?: string, readonly headers?: Record<string, string>) {
    super(message ?? ERROR_CODES[code].message);
    this.status = ERROR_CODES[code].status;
  }
}
