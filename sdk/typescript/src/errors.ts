/**
 * The error tree. Every error this package throws is an {@link EClipsError}; an error the
 * server answered with is an {@link APIError} of the subclass for its status code, carrying
 * the server's `{"error": "..."}` message.
 */

/** Base class of every error thrown by `@eclips/sdk`. */
export class EClipsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message);
    this.name = "EClipsError";
    if (options && "cause" in options) {
      // Set by hand: the `cause` option of the Error constructor needs ES2022.
      (this as { cause?: unknown }).cause = options.cause;
    }
  }
}

/** The server answered with an error status. `message` is the server's `error` field. */
export class APIError extends EClipsError {
  /** HTTP status code. */
  readonly status: number;
  /** The parsed JSON body (or the raw text when the body is not JSON). */
  readonly body: unknown;
  /** The response headers. */
  readonly headers: Headers;

  constructor(status: number, message: string, body: unknown, headers: Headers) {
    super(message);
    this.name = "APIError";
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

/** 400: the request is invalid (a missing field, a bad parameter, a wrong state). */
export class BadRequestError extends APIError {
  override name = "BadRequestError";
}

/** 401: the API key is missing or unknown. */
export class AuthenticationError extends APIError {
  override name = "AuthenticationError";
}

/** 402: the organization has no credits left. */
export class PaymentRequiredError extends APIError {
  override name = "PaymentRequiredError";
}

/** 403: the key lacks the scope the endpoint needs (`Insufficient scope`). */
export class PermissionDeniedError extends APIError {
  override name = "PermissionDeniedError";
}

/** 404: no such object in your organization. */
export class NotFoundError extends APIError {
  override name = "NotFoundError";
}

/** 409: the object is not in a state that allows the request. */
export class ConflictError extends APIError {
  override name = "ConflictError";
}

/** 422: the body is well-formed but its values are not acceptable. */
export class UnprocessableEntityError extends APIError {
  override name = "UnprocessableEntityError";
}

/** 429: too many requests. Retried automatically, honouring `Retry-After`. */
export class RateLimitError extends APIError {
  override name = "RateLimitError";
}

/** 5xx: the server failed. Retried automatically. */
export class InternalServerError extends APIError {
  override name = "InternalServerError";
}

/** The server could not be reached, or the connection broke before an answer. */
export class APIConnectionError extends EClipsError {
  constructor(message = "Connection error", options?: { cause?: unknown }) {
    super(message, options);
    this.name = "APIConnectionError";
  }
}

/** The request took longer than `timeoutMs`. */
export class APIConnectionTimeoutError extends APIConnectionError {
  constructor(message = "Request timed out", options?: { cause?: unknown }) {
    super(message, options);
    this.name = "APIConnectionTimeoutError";
  }
}

/** The caller aborted the request through its `AbortSignal`. Never retried. */
export class APIUserAbortError extends EClipsError {
  constructor(message = "Request was aborted", options?: { cause?: unknown }) {
    super(message, options);
    this.name = "APIUserAbortError";
  }
}

/** `waitForRun` or `waitForBatch` gave up after its `timeoutMs`. */
export class WaitTimeoutError extends EClipsError {
  constructor(message: string) {
    super(message);
    this.name = "WaitTimeoutError";
  }
}

/** A webhook's signature, timestamp or headers did not verify. */
export class WebhookVerificationError extends EClipsError {
  constructor(message: string) {
    super(message);
    this.name = "WebhookVerificationError";
  }
}

type APIErrorClass = new (
  status: number,
  message: string,
  body: unknown,
  headers: Headers,
) => APIError;

const BY_STATUS: Record<number, APIErrorClass> = {
  400: BadRequestError,
  401: AuthenticationError,
  402: PaymentRequiredError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  422: UnprocessableEntityError,
  429: RateLimitError,
};

/** The {@link APIError} subclass for a status code, with the server's message. */
export function errorFromResponse(status: number, body: unknown, headers: Headers): APIError {
  const message = messageOf(body) ?? `HTTP ${status}`;
  const cls = status >= 500 ? InternalServerError : (BY_STATUS[status] ?? APIError);
  return new cls(status, message, body, headers);
}

function messageOf(body: unknown): string | undefined {
  if (typeof body === "string") return body.trim() || undefined;
  if (body && typeof body === "object") {
    const { error, message, detail } = body as Record<string, unknown>;
    for (const field of [error, message, detail]) {
      if (typeof field === "string" && field) return field;
      if (field !== undefined && field !== null) return JSON.stringify(field);
    }
  }
  return undefined;
}
