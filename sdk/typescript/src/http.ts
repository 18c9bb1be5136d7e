/** The HTTP layer: one request, with its timeout, retries and error mapping. */

import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIUserAbortError,
  EClipsError,
  errorFromResponse,
} from "./errors.js";

export type HTTPMethod = "GET" | "POST" | "PUT" | "DELETE";

/** Per-call options, accepted as the last argument of every client method. */
export interface RequestOptions {
  /** Abort the call (and its retries). */
  signal?: AbortSignal;
  /** Overrides the client's `timeoutMs` for this call. */
  timeoutMs?: number;
  /** Overrides the client's `maxRetries` for this call. */
  maxRetries?: number;
  /**
   * The `Idempotency-Key` of a POST. By default each call gets a fresh one, sent unchanged on
   * its retries, so the server never runs a retried POST twice.
   */
  idempotencyKey?: string;
}

export interface HTTPConfig {
  baseUrl: string;
  apiKey: string | undefined;
  maxRetries: number;
  timeoutMs: number;
  fetch: typeof fetch;
}

export interface RequestSpec {
  method: HTTPMethod;
  path: string;
  query?: Record<string, string | number | boolean | undefined> | undefined;
  body?: unknown;
  /** Return the response with its body unread (for SSE); the timeout then covers the headers. */
  stream?: boolean;
}

/** A response and its body as text; a successful stream's body is left unread (text ""). */
export interface Answer {
  response: Response;
  text: string;
}

/** A Retry-After longer than this is not honoured; the client's own backoff applies. */
const MAX_RETRY_AFTER_MS = 60_000;
const INITIAL_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 8_000;

/** Sends one logical request, retrying network errors, timeouts, 408, 429 and 5xx with backoff. */
export async function send(
  config: HTTPConfig,
  spec: RequestSpec,
  options: RequestOptions = {},
): Promise<Answer> {
  const maxRetries = options.maxRetries ?? config.maxRetries;
  const url = buildUrl(config.baseUrl, spec.path, spec.query);
  const headers: Record<string, string> = {
    Accept: spec.stream ? "text/event-stream" : "application/json",
  };
  if (config.apiKey) headers.Authorization = `Bearer ${config.apiKey}`;
  if (spec.method === "POST") {
    headers["Idempotency-Key"] = options.idempotencyKey ?? `eclips-typescript-${randomUUID()}`;
  }
  let body: string | undefined;
  if (spec.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(spec.body);
  }

  for (let attempt = 0; ; attempt++) {
    const retriesLeft = maxRetries - attempt;
    let answer: Answer;
    try {
      answer = await attemptOnce(config, url, { method: spec.method, headers, body }, spec, options);
    } catch (error) {
      if (error instanceof APIConnectionError && retriesLeft > 0) {
        await sleep(backoffMs(attempt), options.signal);
        continue;
      }
      throw error;
    }
    const { response } = answer;
    if (response.ok) return answer;
    if (retriesLeft > 0 && isRetryable(response.status)) {
      await sleep(retryDelayMs(response.headers, attempt), options.signal);
      continue;
    }
    throw errorFromResponse(response.status, parseLenient(answer.text), response.headers);
  }
}

/** Parses a successful JSON answer. */
export function parseJSON<T>(answer: Answer): T {
  if (answer.text === "") return undefined as T;
  try {
    return JSON.parse(answer.text) as T;
  } catch (error) {
    throw new EClipsError(
      `Invalid JSON in the response to ${answer.response.url || "the request"}`,
      { cause: error },
    );
  }
}

async function attemptOnce(
  config: HTTPConfig,
  url: string,
  init: { method: string; headers: Record<string, string>; body: string | undefined },
  spec: RequestSpec,
  options: RequestOptions,
): Promise<Answer> {
  const { signal } = options;
  if (signal?.aborted) throw new APIUserAbortError();
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs ?? config.timeoutMs);
  try {
    const response = await config.fetch(url, { ...init, signal: controller.signal });
    // A stream stays linked to the caller's signal (aborting it closes the stream);
    // anything else is read now, inside the timeout.
    const text = spec.stream && response.ok ? "" : await response.text();
    return { response, text };
  } catch (error) {
    if (signal?.aborted) throw new APIUserAbortError(undefined, { cause: error });
    if (timedOut) throw new APIConnectionTimeoutError(undefined, { cause: error });
    throw new APIConnectionError(`Connection error: ${describe(error)}`, { cause: error });
  } finally {
    clearTimeout(timer);
    if (!spec.stream) signal?.removeEventListener("abort", onAbort);
  }
}

function buildUrl(baseUrl: string, path: string, query: RequestSpec["query"]): string {
  let url = baseUrl + path;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) params.append(key, String(value));
    }
    const qs = params.toString();
    if (qs) url += `?${qs}`;
  }
  return url;
}

/** Request timeouts, rate limits and server errors are worth another try. */
function isRetryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** How long to wait before the next attempt: the server's Retry-After, else backoff. */
function retryDelayMs(headers: Headers, attempt: number): number {
  const fromServer = retryAfterMs(headers);
  return fromServer !== undefined && fromServer <= MAX_RETRY_AFTER_MS
    ? fromServer
    : backoffMs(attempt);
}

function retryAfterMs(headers: Headers): number | undefined {
  const ms = Number.parseFloat(headers.get("retry-after-ms") ?? "");
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers.get("retry-after");
  if (value === null) return undefined;
  const seconds = Number(value.trim());
  if (value.trim() !== "" && Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Exponential backoff with jitter: ~0.5 s, 1 s, 2 s, ... up to 8 s, minus up to 25%. */
export function backoffMs(attempt: number): number {
  const base = Math.min(INITIAL_BACKOFF_MS * 2 ** attempt, MAX_BACKOFF_MS);
  return base * (1 - 0.25 * Math.random());
}

/** Resolves after `ms`, or rejects with {@link APIUserAbortError} when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new APIUserAbortError());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new APIUserAbortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function parseLenient(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A UUIDv4; from WebCrypto where there is one (Node 19+, browsers), else Math.random. */
function randomUUID(): string {
  const webCrypto = globalThis.crypto;
  if (typeof webCrypto?.randomUUID === "function") return webCrypto.randomUUID();
  const bytes = new Uint8Array(16);
  if (typeof webCrypto?.getRandomValues === "function") webCrypto.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? `: ${cause.message}` : "";
    return `${error.message}${detail}`;
  }
  return String(error);
}
