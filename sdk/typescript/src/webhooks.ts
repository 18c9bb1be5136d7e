/**
 * Verification of webhook deliveries, signed per the Standard Webhooks spec
 * (https://www.standardwebhooks.com): headers `webhook-id`, `webhook-timestamp` and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "${id}.${timestamp}.${body}">`, keyed with
 * the base64-decoded part of the `whsec_...` secret. Uses WebCrypto, so it runs in Node and
 * in browsers, edge runtimes and workers alike.
 */

import { WebhookVerificationError } from "./errors.js";
import type { WebhookPayload } from "./types.js";

/** Request headers as a `Headers` object or a plain object (Node's `req.headers`). */
export type WebhookHeaders =
  | Headers
  | Record<string, string | string[] | undefined>;

export interface VerifyWebhookOptions {
  /** How far the timestamp may be from now, in seconds. Default 300 (5 minutes). */
  toleranceSeconds?: number;
  /** The current time, for tests. Default `Date.now()`. */
  now?: Date | number;
}

const SECRET_PREFIX = "whsec_";
const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

/**
 * Checks that a webhook delivery was signed with `secret` within the last five minutes and
 * returns its parsed JSON payload. Pass the raw body exactly as received (a string or its
 * bytes), not a re-serialized object. Throws {@link WebhookVerificationError} otherwise.
 */
export async function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  body: string | Uint8Array | ArrayBuffer,
  options: VerifyWebhookOptions = {},
): Promise<WebhookPayload> {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatures) {
    throw new WebhookVerificationError("Missing required headers");
  }

  const sentAt = Number(timestamp);
  if (!/^\d+$/.test(timestamp.trim()) || !Number.isSafeInteger(sentAt)) {
    throw new WebhookVerificationError("Invalid webhook-timestamp header");
  }
  const now = Math.floor(Number(options.now ?? Date.now()) / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (now - sentAt > tolerance) throw new WebhookVerificationError("Message timestamp too old");
  if (sentAt - now > tolerance) throw new WebhookVerificationError("Message timestamp too new");

  const payload = toBytes(body);
  const signedContent = concat(new TextEncoder().encode(`${id}.${timestamp}.`), payload);
  const expected = await hmacSha256(secretKey(secret), signedContent);

  let matched = false;
  for (const part of signatures.split(" ")) {
    const comma = part.indexOf(",");
    if (comma === -1 || part.slice(0, comma) !== "v1") continue;
    const given = base64Decode(part.slice(comma + 1));
    // Keep comparing after a match so the time taken does not tell which one matched.
    if (given && timingSafeEqual(given, expected)) matched = true;
  }
  if (!matched) throw new WebhookVerificationError("No matching signature found");

  try {
    return JSON.parse(new TextDecoder().decode(payload)) as WebhookPayload;
  } catch {
    throw new WebhookVerificationError("The payload is not valid JSON");
  }
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") {
    return (headers as Headers).get(name) ?? undefined;
  }
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value.join(" ") : value;
}

function secretKey(secret: string): Uint8Array {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = base64Decode(encoded);
  if (!key || key.length === 0) {
    throw new WebhookVerificationError("The webhook secret is not a valid whsec_ secret");
  }
  return key;
}

function toBytes(body: string | Uint8Array | ArrayBuffer): Uint8Array {
  if (typeof body === "string") return new TextEncoder().encode(body);
  if (body instanceof Uint8Array) return body;
  return new Uint8Array(body);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function base64Decode(value: string): Uint8Array | undefined {
  try {
    const binary = atob(value);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return undefined;
  }
}

/** Compares in time that depends only on the lengths, never on where the bytes differ. */
function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

async function hmacSha256(key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const subtle = await webCrypto();
  const cryptoKey = await subtle.importKey(
    "raw",
    key as BufferSource,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await subtle.sign("HMAC", cryptoKey, data as BufferSource));
}

async function webCrypto(): Promise<SubtleCrypto> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle) return subtle;
  // Node 18 exposes WebCrypto only as a module export, not as a global.
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (proc?.versions?.node) {
    const specifier = "node:crypto";
    const mod = (await import(specifier)) as { webcrypto?: { subtle?: SubtleCrypto } };
    if (mod.webcrypto?.subtle) return mod.webcrypto.subtle;
  }
  throw new WebhookVerificationError("WebCrypto (crypto.subtle) is not available here");
}
