// The server's real 429s: typed as RateLimitError, and retried after their Retry-After.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { EClipsClient, RateLimitError } from "@eclips/sdk";

import { startEClipsServer } from "../helpers/eclips-server.mjs";

let server;

before(async () => {
  server = await startEClipsServer({ env: { ECLIPS_RATE_LIMIT: "2/second" } });
});

after(async () => {
  await server?.stop();
});

test("over the limit, a call without retries gets a RateLimitError with Retry-After", async () => {
  const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: server.apiKey, maxRetries: 0 });
  const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => client.getUsage()));
  const limited = outcomes.filter((o) => o.status === "rejected").map((o) => o.reason);
  assert.ok(limited.length >= 1, "some calls are over the limit");
  for (const error of limited) {
    assert.ok(error instanceof RateLimitError, String(error));
    assert.equal(error.status, 429);
    assert.ok(error.message.length > 0);
    assert.match(error.headers.get("retry-after") ?? "", /^\d+$/);
  }
});

test("with retries, every call gets through, waiting as the server asks", async () => {
  const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: server.apiKey, maxRetries: 5 });
  await new Promise((r) => setTimeout(r, 1100));
  const started = Date.now();
  for (let i = 0; i < 6; i++) await client.getUsage();
  assert.ok(Date.now() - started >= 1000, "six calls at two a second take over a second");
});
