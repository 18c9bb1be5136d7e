// verifyWebhook against signatures computed here with Node's own crypto module.
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { describe, test } from "node:test";

import { EClipsError, WebhookVerificationError, verifyWebhook } from "@eclips/sdk";

const key = randomBytes(32);
const secret = `whsec_${key.toString("base64")}`;
const id = "msg_2b9f8a6e";
const body = JSON.stringify({
  type: "run.completed",
  timestamp: "2026-06-06T09:00:42.000Z",
  data: { run_id: "a1b2c3d4-0000-4000-8000-000000000000", status: "completed", confidence: 0.94 },
});

function sign(content, withKey = key) {
  return createHmac("sha256", withKey).update(content).digest("base64");
}

function headersFor({ timestamp = Math.floor(Date.now() / 1000), signature, msgId = id } = {}) {
  return {
    "webhook-id": msgId,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signature ?? `v1,${sign(`${msgId}.${timestamp}.${body}`)}`,
  };
}

async function rejectsWith(promise, message) {
  const error = await promise.then(
    () => assert.fail("expected a WebhookVerificationError"),
    (e) => e,
  );
  assert.ok(error instanceof WebhookVerificationError, String(error));
  assert.ok(error instanceof EClipsError);
  if (message) assert.match(error.message, message);
}

describe("verifyWebhook", () => {
  test("the Standard Webhooks reference vector verifies", async () => {
    const payload = await verifyWebhook(
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
      },
      '{"test": 2432232314}',
      { now: 1614265330 * 1000 },
    );
    assert.deepEqual(payload, { test: 2432232314 });
  });

  test("a valid delivery returns its parsed payload", async () => {
    const payload = await verifyWebhook(secret, headersFor(), body);
    assert.equal(payload.type, "run.completed");
    assert.equal(payload.data.confidence, 0.94);
  });

  test("accepts a Headers object, byte bodies, and header names in any case", async () => {
    const h = headersFor();
    await verifyWebhook(secret, new Headers(h), Buffer.from(body));
    await verifyWebhook(secret, new Headers(h), new TextEncoder().encode(body).buffer);
    const upper = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toUpperCase(), v]));
    await verifyWebhook(secret, upper, body);
  });

  test("accepts a secret without the whsec_ prefix", async () => {
    await verifyWebhook(key.toString("base64"), headersFor(), body);
  });

  test("any one of several space-separated signatures may match", async () => {
    const ts = Math.floor(Date.now() / 1000);
    const good = `v1,${sign(`${id}.${ts}.${body}`)}`;
    const wrong = `v1,${sign(`${id}.${ts}.${body}`, randomBytes(32))}`;
    await verifyWebhook(secret, headersFor({ timestamp: ts, signature: `${wrong} ${good}` }), body);
    await verifyWebhook(secret, headersFor({ timestamp: ts, signature: `v1a,abc ${good}` }), body);
  });

  test("a signature made with another secret is refused", async () => {
    const other = `whsec_${randomBytes(32).toString("base64")}`;
    await rejectsWith(verifyWebhook(other, headersFor(), body), /No matching signature/);
  });

  test("a changed body, id or timestamp is refused", async () => {
    const h = headersFor();
    await rejectsWith(verifyWebhook(secret, h, body.replace("0.94", "0.99")), /No matching/);
    await rejectsWith(verifyWebhook(secret, { ...h, "webhook-id": "msg_other" }, body), /No matching/);
    const ts = Number(h["webhook-timestamp"]) - 1;
    await rejectsWith(
      verifyWebhook(secret, { ...h, "webhook-timestamp": String(ts) }, body),
      /No matching/,
    );
  });

  test("only v1 signatures count", async () => {
    const ts = Math.floor(Date.now() / 1000);
    const raw = sign(`${id}.${ts}.${body}`);
    await rejectsWith(
      verifyWebhook(secret, headersFor({ timestamp: ts, signature: `v2,${raw}` }), body),
      /No matching/,
    );
    await rejectsWith(
      verifyWebhook(secret, headersFor({ timestamp: ts, signature: raw }), body),
      /No matching/,
    );
  });

  test("timestamps more than 5 minutes away are refused, either way", async () => {
    const now = Math.floor(Date.now() / 1000);
    await verifyWebhook(secret, headersFor({ timestamp: now - 290 }), body);
    await verifyWebhook(secret, headersFor({ timestamp: now + 290 }), body);
    await rejectsWith(verifyWebhook(secret, headersFor({ timestamp: now - 310 }), body), /too old/);
    await rejectsWith(verifyWebhook(secret, headersFor({ timestamp: now + 310 }), body), /too new/);
    await verifyWebhook(secret, headersFor({ timestamp: now - 310 }), body, {
      toleranceSeconds: 600,
    });
  });

  test("missing or malformed headers are refused", async () => {
    const h = headersFor();
    for (const name of Object.keys(h)) {
      const { [name]: _dropped, ...rest } = h;
      await rejectsWith(verifyWebhook(secret, rest, body), /Missing required headers/);
    }
    await rejectsWith(
      verifyWebhook(secret, { ...h, "webhook-timestamp": "yesterday" }, body),
      /timestamp/,
    );
  });

  test("a secret that is not base64 is refused", async () => {
    await rejectsWith(verifyWebhook("whsec_***", headersFor(), body), /secret/);
  });
});
