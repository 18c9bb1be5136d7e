export { EClipsClient, DEFAULT_BASE_URL, TERMINAL_RUN_STATUSES } from "./client.js";
export type {
  ClientOptions,
  StreamRunOptions,
  WaitForBatchOptions,
  WaitForRunOptions,
} from "./client.js";
export type { RequestOptions } from "./http.js";
export {
  EClipsError,
  APIError,
  BadRequestError,
  AuthenticationError,
  PaymentRequiredError,
  PermissionDeniedError,
  NotFoundError,
  ConflictError,
  UnprocessableEntityError,
  RateLimitError,
  InternalServerError,
  APIConnectionError,
  APIConnectionTimeoutError,
  APIUserAbortError,
  WaitTimeoutError,
  WebhookVerificationError,
} from "./errors.js";
export { verifyWebhook } from "./webhooks.js";
export type { VerifyWebhookOptions, WebhookHeaders } from "./webhooks.js";
export type * from "./types.js";
