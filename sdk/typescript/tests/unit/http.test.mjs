// Error mapping, retries, timeouts and request shape, against a scripted node:http server.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, describe, test } from "node:test";

import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  EClipsClient,
  EClipsError,
  InternalServerError,
  NotFoundError,
  PaymentRequiredError,
  PermissionDeniedError,
  RateLimitError,
  UnprocessableEntityError,
} from "@eclips/sdk";

import { json, startMockServer } from "../helpers/mock-server.mjs";

/** A server whose answer to each request is the next entry of `script` (then 200 {ok}). */
async function scripted(script) {
  return startMockServer((req, res, n) => {
    const step = script[n - 1];
    if (typeof step === "function") return step(req, res);
    if (!step) return json(res, 200, { ok: true, n });
    return json(res, step.status, step.body ?? { error: step.error }, step.headers);
  });
}

describe("error mapping", () => {
  const cases = [
    [400, BadRequestError, "Maximum 500 rows per batch"],
    [401, AuthenticationError, "Invalid API key"],
    [402, PaymentRequiredError, "Insufficient credits"],
    [403, PermissionDeniedError, "Insufficient scope"],
    [404, NotFoundError, "Run not found"],
    [409, ConflictError, "Run is already completed"],
    [422, UnprocessableEntityError, "Invalid settings"],
    [429, RateLimitError, "Too many requests"],
    [500, InternalServerError, "Internal server error"],
    [503, InternalServerError, "Service unavailable"],
    [418, APIError, "I'm a teapot"],
  ];
  for (const [status, cls, message] of cases) {
    test(`${status} -> ${cls.name} with the server's message`, async () => {
      const server = await scripted(
        Array.from({ length: 5 }, () => ({ status, error: message })),
      );
      try {
        const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k", maxRetries: 0 });
        const error = await client.getRun("r1").catch((e) => e);
        assert.ok(error instanceof cls, `expected ${cls.name}, got ${error?.name}`);
        assert.ok(error instanceof APIError);
        assert.ok(error instanceof EClipsError);
        assert.ok(error instanceof Error);
        assert.equal(error.name, cls.name);
        assert.equal(error.status, status);
        assert.equal(error.message, message);
        assert.deepEqual(error.body, { error: message });
        assert.equal(error.headers.get("content-type"), "application/json");
      } finally {
        await server.close();
      }
    });
  }

  test("a non-JSON error body becomes the message", async () => {
    const server = await startMockServer((_req, res) => {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("nothing here");
    });
    try {
      const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
      const error = await client.getBatch("b1").catch((e) => e);
      assert.ok(error instanceof NotFoundError);
      assert.equal(error.message, "nothing here");
    } finally {
      await server.close();
    }
  });
});

describe("retries", () => {
  test("5xx is retried until it succeeds", async () => {
    const server = await scripted([
      { status: 503, error: "busy", headers: { "retry-after": "0" } },
      { status: 500, error: "boom", headers: { "retry-after": "0" } },
    ]);
    try {
      const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
      assert.deepEqual(await client.health(), { ok: true, n: 3 });
      assert.equal(server.requests.length, 3);
    } finally {
      await server.close();
    }
  });

  test("gives up after maxRetries (default 2) and throws the last error", async () => {
    const server = await scripted(
      Array.from({ length: 5 }, (_, i) => ({
        status: 502,
        error: `bad gateway ${i + 1}`,
        headers: { "retry-after": "0" },
      })),
    );
    try {
      const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
      const error = await client.listRuns().catch((e) => e);
      assert.ok(error instanceof InternalServerError);
      assert.equal(error.message, "bad gateway 3");
      assert.equal(server.requests.length, 3);
    } finally {
      await server.close();
    }
  });

  test("429 honours Retry-After (seconds)", async () => {
    const server = await scripted([
      { status: 429, error: "slow down", headers: { "retry-after": "1" } },
    ]);
    try {
      const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
      const started = Date.now();
      assert.deepEqual(await client.getUsage(), { ok: true, n: 2 });
      assert.ok(Date.now() - started >= 950, "waited the Retry-After second");
    } finally {
      await server.close();
    }
  });

  test("429 honours Retry-After as an HTTP date", async () => {
    const at = new Date(Date.now() + 2000).toUTCString();
    const server = await scripted([{ status: 429, error: "slow down", headers: { "retry-after": at } }]);
    try {
      const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
      const started = Date.now();
      await client.getUsage();
      // HTTP dates have a one-second resolution.
      assert.ok(Date.now() - started >= 900);
    } finally {
      await server.close();
    }
  });

  test("without Retry-After, backs off exponentially with jitter", async () => {
    const server = await scripted([
      { status: 500, error: "a" },
      { status: 500, error: "b" },
    ]);
    try {
      const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
      const started = Date.now();
      await client.health();
      const elapsed = Date.now() - started;
      // ~500 ms then ~1000 ms, each reduced by up to 25% of jitter.
      assert.ok(elapsed >= 0.75 * 1500 - 50, `elapsed ${elapsed}`);
      assert.ok(elapsed < 3000, `elapsed ${elapsed}`);
    } finally {
      await server.close();
    }
  });

  test("a Retry-After over a minute falls back to the client's backoff", async () => {
    const server = await scripted([{ status: 429, error: "come back tomorrow", headers: { "retry-after": "86400" } }]);
    try {
      const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
      const started = Date.now();
      assert.deepEqual(await client.health(), { ok: true, n: 2 });
      assert.ok(Date.now() - started < 2000);
    } finally {
      await server.close();
    }
  });

  test("408 Request Timeout is retried", async () => {
    const server = await scripted([{ status: 408, error: "slow", headers: { "retry-after": "0" } }]);
    try {
      const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
      assert.deepEqual(await client.health(), { ok: true, n: 2 });
    } finally {
      await server.close();
    }
  });

  test("a POST keeps one Idempotency-Key across its retries; each call gets its own", async () => {
    const server = await scripted([
      { status: 503, error: "busy", headers: { "retry-after": "0" } },
      (_req, res) => res.socket.destroy(),
    ]);
    try {
      const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
      await client.run({ task: "t" });
      await client.run({ task: "t" });
      await client.run({ task: "t" }, { idempotencyKey: "order-42" });
      await client.getUsage();
      const keys = server.requests.map((r) => r.headers["idempotency-key"]);
      assert.match(keys[0], /^eclips-typescript-[0-9a-f-]{36}$/);
      assert.equal(keys[1], keys[0]);
      assert.equal(keys[2], keys[0]);
      assert.notEqual(keys[3], keys[0]);
      assert.equal(keys[4], "order-42");
      assert.equal(keys[5], undefined, "GET sends none");
    } finally {
      await server.close();
    }
  });

  test("4xx other than 429 is never retried", async () => {
    for (const status of [400, 401, 402, 403, 404, 409, 422]) {
      const server = await scripted([{ status, error: "no" }]);
      try {
        const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
        await assert.rejects(client.health(), APIError);
        assert.equal(server.requests.length, 1, `status ${status}`);
      } finally {
        await server.close();
      }
    }
  });

  test("maxRetries: 0 disables retries; per-call maxRetries overrides the client's", async () => {
    const server = await scripted(
      Array.from({ length: 6 }, () => ({ status: 503, error: "x", headers: { "retry-after": "0" } })),
    );
    try {
      const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k", maxRetries: 0 });
      await assert.rejects(client.health(), InternalServerError);
      assert.equal(server.requests.length, 1);
      await assert.rejects(client.health({ maxRetries: 1 }), InternalServerError);
      assert.equal(server.requests.length, 3);
    } finally {
      await server.close();
    }
  });

  test("a dropped connection is retried", async () => {
    const server = await scripted([
      (_req, res) => res.socket.destroy(),
      (_req, res) => res.socket.destroy(),
    ]);
    try {
      const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
      assert.deepEqual(await client.health(), { ok: true, n: 3 });
    } finally {
      await server.close();
    }
  });

  test("an unreachable server is an APIConnectionError after the retries", async () => {
    const port = await closedPort();
    const client = new EClipsClient({ baseUrl: `http://127.0.0.1:${port}`, maxRetries: 1 });
    const error = await client.health().catch((e) => e);
    assert.ok(error instanceof APIConnectionError, String(error));
    assert.ok(error instanceof EClipsError);
    assert.match(error.message, /Connection error/);
    assert.ok(error.cause, "keeps the underlying error as cause");
  });
});

describe("timeouts and aborts", () => {
  test("timeoutMs raises APIConnectionTimeoutError (retried like a network error)", async () => {
    const server = await startMockServer(() => {
      /* never answers */
    });
    try {
      const client = new EClipsClient({
        baseUrl: server.baseUrl,
        apiKey: "k",
        timeoutMs: 100,
        maxRetries: 1,
      });
      const error = await client.health().catch((e) => e);
      assert.ok(error instanceof APIConnectionTimeoutError, String(error));
      assert.ok(error instanceof APIConnectionError);
      assert.equal(server.requests.length, 2);
    } finally {
      await server.close();
    }
  });

  test("an aborted signal raises APIUserAbortError and is not retried", async () => {
    const server = await startMockServer(() => {
      /* never answers */
    });
    try {
      const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const error = await client.health({ signal: controller.signal }).catch((e) => e);
      assert.ok(error instanceof APIUserAbortError, String(error));
      assert.equal(server.requests.length, 1);
    } finally {
      await server.close();
    }
  });
});

describe("requests", () => {
  let server;
  before(async () => {
    server = await startMockServer((req, res) => {
      if (req.url.startsWith("/v1/batches/b1/results")) {
        res.writeHead(200, { "content-type": "application/x-ndjson" });
        res.end('{"row_index":0,"status":"completed"}\n{"row_index":1,"status":"failed"}\n');
        return;
      }
      if (req.url === "/v1/batches/b1") {
        return json(res, 200, {
          job: { id: "b1", status: "running", total_rows: 2, completed_rows: 1, failed_rows: 0 },
          rows: [{ row_index: 0 }, { row_index: 1 }],
        });
      }
      json(res, 200, { job: { id: "b1" }, jobs: [], data: [] });
    });
  });
  after(() => server.close());

  test("sends the bearer key, JSON body, and snake_case fields", async () => {
    const client = new EClipsClient({ baseUrl: `${server.baseUrl}/`, apiKey: "eck_live_test" });
    await client.run({ task: "t", agentType: "ap_specialist", data: { a: 1 }, webhookUrl: "https://x" });
    const req = server.requests.at(-1);
    assert.equal(req.method, "POST");
    assert.equal(req.url, "/v1/run");
    assert.equal(req.headers.authorization, "Bearer eck_live_test");
    assert.equal(req.headers["content-type"], "application/json");
    assert.deepEqual(JSON.parse(req.body), {
      task: "t",
      agent_type: "ap_specialist",
      data: { a: 1 },
      webhook_url: "https://x",
    });
    await client.run({ task: "u", agent_type: "center", priority: "high" });
    assert.deepEqual(JSON.parse(server.requests.at(-1).body), {
      task: "u",
      agent_type: "center",
      priority: "high",
    });
  });

  test("query parameters skip what is not given", async () => {
    const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
    await client.listRuns({ status: "completed", limit: 5 });
    assert.equal(server.requests.at(-1).url, "/v1/runs?status=completed&limit=5");
    await client.listBatches();
    assert.equal(server.requests.at(-1).url, "/v1/batches");
    await client.listTriage({ offset: 0 });
    assert.equal(server.requests.at(-1).url, "/v1/triage?offset=0");
  });

  test("ids are escaped into the path, and an empty id is refused", async () => {
    const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
    await client.getRun("a/b?c");
    assert.equal(server.requests.at(-1).url, "/v1/runs/a%2Fb%3Fc");
    await assert.rejects(client.getRun(""), EClipsError);
  });

  test("createBatch sends the manual's body and returns the job", async () => {
    const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
    const job = await client.createBatch(
      "ap_specialist",
      [{ task: "a" }, { task: "b", data: { amount: 1 }, custom_id: "x-2" }],
      { name: "June invoices", webhookUrl: "https://h" },
    );
    assert.equal(job.id, "b1");
    assert.deepEqual(JSON.parse(server.requests.at(-1).body), {
      agent_type: "ap_specialist",
      rows: [{ task: "a" }, { task: "b", data: { amount: 1 }, custom_id: "x-2" }],
      name: "June invoices",
      webhook_url: "https://h",
    });
  });

  test("getBatch puts the job's fields at the top level, with rows", async () => {
    const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
    const job = await client.getBatch("b1");
    assert.equal(job.status, "running");
    assert.equal(job.completed_rows, 1);
    assert.equal(job.total_rows, 2);
    assert.equal(job.rows.length, 2);
  });

  test("getBatchResults parses JSON Lines", async () => {
    const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
    assert.deepEqual(await client.getBatchResults("b1"), [
      { row_index: 0, status: "completed" },
      { row_index: 1, status: "failed" },
    ]);
  });

  test("waitForBatch polls until the job leaves pending/running, reporting progress", async () => {
    const statuses = ["pending", "running", "running", "completed"];
    const local = await startMockServer((_req, res, n) =>
      json(res, 200, {
        job: { id: "b9", status: statuses[n - 1], total_rows: 3, completed_rows: n - 1, failed_rows: 0 },
        rows: [],
      }),
    );
    try {
      const client = new EClipsClient({ baseUrl: local.baseUrl, apiKey: "k" });
      const seen = [];
      const job = await client.waitForBatch("b9", {
        pollMs: 10,
        onProgress: (j) => seen.push(`${j.status}:${j.completed_rows}`),
      });
      assert.equal(job.status, "completed");
      assert.deepEqual(seen, ["pending:0", "running:1", "running:2", "completed:3"]);
    } finally {
      await local.close();
    }
  });
});

describe("configuration", () => {
  test("baseUrl and apiKey default to ECLIPS_BASE_URL and ECLIPS_API_KEY", async () => {
    const server = await startMockServer((_req, res) => json(res, 200, {}));
    const saved = { url: process.env.ECLIPS_BASE_URL, key: process.env.ECLIPS_API_KEY };
    try {
      process.env.ECLIPS_BASE_URL = server.baseUrl;
      process.env.ECLIPS_API_KEY = "eck_live_from_env";
      const client = new EClipsClient();
      assert.equal(client.baseUrl, server.baseUrl);
      await client.getUsage();
      assert.equal(server.requests[0].headers.authorization, "Bearer eck_live_from_env");
      delete process.env.ECLIPS_BASE_URL;
      delete process.env.ECLIPS_API_KEY;
      assert.equal(new EClipsClient().baseUrl, "http://127.0.0.1:8080");
      assert.equal(new EClipsClient({ maxRetries: 5 }).maxRetries, 5);
      assert.equal(new EClipsClient({ baseUrl: "https://api.eclips.tech/v1/" }).baseUrl, "https://api.eclips.tech");
      assert.equal(new EClipsClient().maxRetries, 2);
    } finally {
      restore("ECLIPS_BASE_URL", saved.url);
      restore("ECLIPS_API_KEY", saved.key);
      await server.close();
    }
  });

  test("without a key no Authorization header is sent (health is public)", async () => {
    const server = await startMockServer((_req, res) => json(res, 200, { status: "ok" }));
    const saved = process.env.ECLIPS_API_KEY;
    try {
      delete process.env.ECLIPS_API_KEY;
      const client = new EClipsClient({ baseUrl: server.baseUrl });
      await client.health();
      assert.equal(server.requests[0].headers.authorization, undefined);
    } finally {
      restore("ECLIPS_API_KEY", saved);
      await server.close();
    }
  });
});

function restore(name, value) {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/** A port nothing listens on. */
async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}
