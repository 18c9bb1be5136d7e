// Every client method against a real EClips server started for this file.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";

import {
  AuthenticationError,
  BadRequestError,
  EClipsClient,
  NotFoundError,
  PermissionDeniedError,
  verifyWebhook,
} from "@eclips/sdk";

import { startEClipsServer } from "../helpers/eclips-server.mjs";
import { eclipsBin, endpoints, normalizeEndpoint } from "../helpers/paths.mjs";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The manual's example task: `center` routes it to the procurement specialist. */
const QUOTES_TASK = "Get 3 vendor quotes for 500 laptops";
/** Invoice numbers unique to this run: the ap_specialist flags duplicates for triage. */
const invoice = () => `INV-${randomUUID().slice(0, 8)}`;

/** How long a run or a small batch may take; generous, for a busy machine. */
const WAIT_MS = 60_000;

const describeRun = (run) => `run ${run.id} is ${run.status}: ${run.error_message ?? "no error"}`;

let server;
let client;

before(async () => {
  // Private delivery lets the server post webhooks to a receiver on 127.0.0.1.
  server = await startEClipsServer({ env: { ECLIPS_WEBHOOKS_ALLOW_PRIVATE: "true" } });
  client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: server.apiKey });
});

after(async () => {
  await server?.stop();
});

/** Starts an ap_specialist run that the default policy sends to triage (amount > 10 000). */
async function runToTriage() {
  const { run_id } = await client.run({
    agentType: "ap_specialist",
    task: `Process invoice ${invoice()}`,
    data: { amount: 12000 },
  });
  const result = await client.waitForRun(run_id, { pollMs: 250, timeoutMs: WAIT_MS });
  assert.equal(result.run.status, "awaiting_triage", describeRun(result.run));
  assert.ok(result.triage_item);
  return result;
}

describe("the server", () => {
  test("health needs no key", async () => {
    const health = await new EClipsClient({ baseUrl: server.baseUrl, apiKey: undefined }).health();
    assert.equal(health.status, "ok");
    assert.equal(typeof health.version, "string");
    assert.match(health.timestamp, ISO);
  });

  test("serves exactly the endpoints in endpoints.json", async () => {
    const openapi = await (await fetch(`${server.baseUrl}/openapi.json`)).json();
    const served = Object.entries(openapi.paths)
      .filter(([path]) => path.startsWith("/v1/"))
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .map(normalizeEndpoint)
      .sort();
    const listed = endpoints.endpoints.map((e) => normalizeEndpoint(e.endpoint)).sort();
    assert.deepEqual(served, listed);
  });
});

describe("authentication", () => {
  test("an unknown key is an AuthenticationError with the server's message", async () => {
    const bad = new EClipsClient({ baseUrl: server.baseUrl, apiKey: `eck_live_${"x".repeat(36)}` });
    const error = await bad.listRuns().catch((e) => e);
    assert.ok(error instanceof AuthenticationError, String(error));
    assert.equal(error.status, 401);
    assert.ok(error.message.length > 0);
  });

  test("a missing key is an AuthenticationError", async () => {
    const saved = process.env.ECLIPS_API_KEY;
    delete process.env.ECLIPS_API_KEY;
    try {
      const anonymous = new EClipsClient({ baseUrl: server.baseUrl });
      await assert.rejects(anonymous.getUsage(), AuthenticationError);
    } finally {
      if (saved !== undefined) process.env.ECLIPS_API_KEY = saved;
    }
  });

  test("a key without the scope gets 403 Insufficient scope", async () => {
    const out = execFileSync(
      eclipsBin,
      ["keys", "create", "--org", "demo", "--scope", "agents:read", "--json"],
      {
        encoding: "utf8",
        env: { ...process.env, ECLIPS_DATABASE_URL: `sqlite+aiosqlite:///${server.dir}/eclips.db` },
      },
    );
    const readOnly = new EClipsClient({ baseUrl: server.baseUrl, apiKey: JSON.parse(out).key });
    await readOnly.listRuns();
    const error = await readOnly.run({ task: "x" }).catch((e) => e);
    assert.ok(error instanceof PermissionDeniedError, String(error));
    assert.equal(error.message, "Insufficient scope");
  });
});

describe("runs", () => {
  test("run, waitForRun, getRun, listRuns", async () => {
    const accepted = await client.run({ task: QUOTES_TASK, data: { category: "hardware" } });
    assert.match(accepted.run_id, UUID);
    assert.equal(accepted.status, "queued");
    assert.equal(accepted.agent_type, "center");
    assert.equal(accepted.estimated_completion, "async");

    const { run, triage_item } = await client.waitForRun(accepted.run_id, { pollMs: 250, timeoutMs: WAIT_MS });
    assert.equal(run.id, accepted.run_id);
    assert.equal(run.status, "completed", describeRun(run));
    assert.equal(run.task, QUOTES_TASK);
    assert.deepEqual(run.data, { category: "hardware" });
    assert.equal(run.requires_triage, false);
    assert.equal(typeof run.confidence_score, "number");
    assert.ok(run.output && typeof run.output === "object");
    assert.match(run.created_at, ISO);
    assert.match(run.completed_at, ISO);
    assert.equal(triage_item, null);

    const same = await client.getRun(accepted.run_id);
    assert.deepEqual(same.run.output, run.output);

    const page = await client.listRuns({ status: "completed", limit: 100 });
    assert.equal(page.limit, 100);
    assert.equal(page.offset, 0);
    assert.ok(page.total >= 1);
    assert.ok(page.data.every((r) => r.status === "completed"));
    const listed = page.data.find((r) => r.id === accepted.run_id);
    assert.ok(listed);
    for (const field of ["agent_type", "priority", "created_at", "started_at", "completed_at", "confidence_score", "requires_triage", "error_message"]) {
      assert.ok(field in listed, field);
    }
  });

  test("bad input is a BadRequestError naming the problem", async () => {
    const unknownAgent = await client.run({ task: "x", agentType: "no_such_agent" }).catch((e) => e);
    assert.ok(unknownAgent instanceof BadRequestError, String(unknownAgent));
    await assert.rejects(client.run({ task: "" }), BadRequestError);
    const limit = await client.listRuns({ limit: 500 }).catch((e) => e);
    assert.ok(limit instanceof BadRequestError);
    assert.match(limit.message, /limit/);
  });

  test("a POST retried with the same Idempotency-Key starts one run", async () => {
    const idempotencyKey = `test-${randomUUID()}`;
    const first = await client.run({ task: QUOTES_TASK }, { idempotencyKey });
    const again = await client.run({ task: QUOTES_TASK }, { idempotencyKey });
    assert.equal(again.run_id, first.run_id);
    const other = await client.run({ task: QUOTES_TASK });
    assert.notEqual(other.run_id, first.run_id);
  });

  test("another run id is a NotFoundError", async () => {
    await assert.rejects(client.getRun(randomUUID()), NotFoundError);
  });

  test("streamRun yields status events until the run is terminal", async () => {
    const { run_id } = await client.run({ task: QUOTES_TASK });
    const events = [];
    for await (const event of client.streamRun(run_id)) events.push(event);
    assert.ok(events.length >= 1);
    for (const event of events) {
      assert.deepEqual(Object.keys(event).sort(), ["confidence", "error", "progress", "result", "status"]);
    }
    const last = events.at(-1);
    assert.equal(last.status, "completed");
    assert.equal(typeof last.confidence, "number");
    assert.ok(last.result);
  });

  test("cancelRun cancels a run waiting for triage, and only once", async () => {
    const { run } = await runToTriage();
    assert.deepEqual(await client.cancelRun(run.id), { cancelled: true });
    assert.equal((await client.getRun(run.id)).run.status, "cancelled");
    await assert.rejects(client.cancelRun(run.id), BadRequestError);
  });
});

describe("triage", () => {
  test("listTriage, approveTriage", async () => {
    const { run, triage_item } = await runToTriage();
    assert.equal(triage_item.status, "pending");
    assert.equal(triage_item.run_id, run.id);

    const page = await client.listTriage({ limit: 100 });
    const item = page.data.find((i) => i.id === triage_item.id);
    assert.ok(item, "the pending item is listed");
    assert.equal(item.run_id, run.id);
    assert.equal(item.agent_runs.id, run.id);
    assert.equal(item.agent_runs.agent_type, "ap_specialist");
    assert.equal(typeof item.triage_reason, "string");

    const resolution = await client.approveTriage(triage_item.id, {
      resolutionNote: "Verified against PO — approved",
    });
    assert.equal(resolution.id, triage_item.id);
    assert.equal(resolution.status, "approved");
    assert.match(resolution.resolved_at, ISO);
    const after = await client.getRun(run.id);
    assert.equal(after.run.status, "completed");
  });

  test("rejectTriage", async () => {
    const { run, triage_item } = await runToTriage();
    const resolution = await client.rejectTriage(triage_item.id, {
      reason: "Amount exceeds approved budget",
    });
    assert.equal(resolution.status, "rejected");
    assert.equal((await client.getRun(run.id)).run.status, "cancelled");
    await assert.rejects(client.rejectTriage(randomUUID()), NotFoundError);
  });
});

describe("usage", () => {
  test("getUsage, getUsageHistory, getUsageMembers", async () => {
    const usage = await client.getUsage();
    for (const field of ["plan", "scope", "period", "included_credits", "topup_credits", "credits_used", "credits_remaining", "unlimited", "topup_price_per_1000_usd"]) {
      assert.ok(field in usage, field);
    }
    assert.equal(typeof usage.credits_used, "number");

    const history = await client.getUsageHistory();
    assert.ok(Array.isArray(history));
    assert.ok(history.length <= 50);
    if (history.length > 0) assert.equal(typeof history[0].credits, "number");

    const members = await client.getUsageMembers();
    assert.equal(members.period, usage.period);
    assert.ok(Array.isArray(members.data));
  });
});

describe("agents", () => {
  test("listAgents, getAgentSettings, updateAgentSettings", async () => {
    const agents = await client.listAgents();
    const types = agents.map((a) => a.agent_type);
    for (const builtin of ["center", "procurement_specialist", "ap_specialist"]) {
      assert.ok(types.includes(builtin), builtin);
    }
    const ap = agents.find((a) => a.agent_type === "ap_specialist");
    assert.equal(typeof ap.description, "string");
    assert.equal(typeof ap.settings_schema, "object");

    const current = await client.getAgentSettings("procurement_specialist");
    assert.equal(current.agent_type, "procurement_specialist");
    const changed = { ...current.settings, confidence_threshold: 0.42 };
    const updated = await client.updateAgentSettings("procurement_specialist", changed);
    assert.equal(updated.settings.confidence_threshold, 0.42);
    assert.equal(
      (await client.getAgentSettings("procurement_specialist")).settings.confidence_threshold,
      0.42,
    );
    await assert.rejects(
      client.updateAgentSettings("procurement_specialist", { confidence_threshold: 7 }),
      BadRequestError,
    );
  });
});

describe("webhooks", () => {
  test("create, list, deliveries, rotate, enable, delete", async () => {
    const created = await client.createWebhook({
      url: "https://example.com/webhooks/eclips",
      events: ["run.completed", "run.failed", "run.triage_required"],
    });
    assert.match(created.id, UUID);
    assert.match(created.secret, /^whsec_/);
    assert.equal(created.is_active, true);
    assert.deepEqual(created.events, ["run.completed", "run.failed", "run.triage_required"]);

    const listed = (await client.listWebhooks()).find((w) => w.id === created.id);
    assert.ok(listed);
    assert.equal("secret" in listed, false, "the secret is never returned again");

    const deliveries = await client.listWebhookDeliveries(created.id, { limit: 10 });
    assert.ok(Array.isArray(deliveries.data));
    assert.equal(deliveries.limit, 10);

    const rotated = await client.rotateWebhookSecret(created.id);
    assert.match(rotated.secret, /^whsec_/);
    assert.notEqual(rotated.secret, created.secret);

    assert.equal((await client.enableWebhook(created.id)).id, created.id);

    assert.deepEqual(await client.deleteWebhook(created.id), { success: true });
    await assert.rejects(client.deleteWebhook(created.id), NotFoundError);
    await assert.rejects(client.createWebhook({ url: "https://example.com/x", events: [] }), BadRequestError);
  });

  test("signing secret: get and rotate", async () => {
    const { secret } = await client.getSigningSecret();
    assert.match(secret, /^whsec_/);
    const rotated = await client.rotateSigningSecret();
    assert.notEqual(rotated.secret, secret);
    assert.equal((await client.getSigningSecret()).secret, rotated.secret);
  });

  test("verifyWebhook accepts the server's real deliveries", async () => {
    const received = [];
    let arrived;
    const bothArrived = new Promise((resolve) => (arrived = resolve));
    const receiver = createServer(async (req, res) => {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      received.push({ path: req.url, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(204).end();
      if (received.length >= 2) arrived();
    });
    await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const receiverUrl = `http://127.0.0.1:${receiver.address().port}`;
    try {
      const hook = await client.createWebhook({ url: `${receiverUrl}/registered`, events: ["run.completed"] });
      const { secret: orgSecret } = await client.getSigningSecret();
      const { run_id } = await client.run({ task: QUOTES_TASK, webhookUrl: `${receiverUrl}/per-run` });
      await Promise.race([
        bothArrived,
        new Promise((_, reject) => setTimeout(() => reject(new Error("no deliveries in time")), WAIT_MS)),
      ]);
      for (const delivery of received) {
        const secret = delivery.path === "/registered" ? hook.secret : orgSecret;
        const payload = await verifyWebhook(secret, delivery.headers, delivery.body);
        assert.equal(payload.type, "run.completed");
        assert.equal(payload.id, delivery.headers["webhook-id"]);
        assert.equal(payload.data.run_id ?? payload.data.id, run_id);
        const other = delivery.path === "/registered" ? orgSecret : hook.secret;
        await assert.rejects(verifyWebhook(other, delivery.headers, delivery.body));
      }
      assert.deepEqual(received.map((d) => d.path).sort(), ["/per-run", "/registered"]);
      const attempts = await client.listWebhookDeliveries(hook.id);
      assert.ok(attempts.total >= 1);
      assert.equal(attempts.data[0].status_code, 204);
      await client.deleteWebhook(hook.id);
    } finally {
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});

describe("batches", () => {
  test("createBatch, getBatch, listBatches, waitForBatch, getBatchResults", async () => {
    const first = invoice();
    const job = await client.createBatch(
      "ap_specialist",
      [
        { task: `Process invoice ${first}`, data: { amount: 120 }, custom_id: "first" },
        { task: `Process invoice ${invoice()}`, data: { amount: 450 } },
      ],
      { name: "June invoices" },
    );
    assert.match(job.id, UUID);
    assert.equal(job.name, "June invoices");
    assert.equal(job.agent_type, "ap_specialist");
    assert.equal(job.status, "pending");
    assert.equal(job.total_rows, 2);
    assert.equal(job.completed_rows, 0);
    assert.equal(job.failed_rows, 0);
    assert.match(job.created_at, ISO);

    const fetched = await client.getBatch(job.id);
    assert.equal(fetched.id, job.id);
    assert.equal(fetched.total_rows, 2);
    assert.deepEqual(fetched.rows.map((r) => r.row_index), [0, 1]);
    assert.equal(fetched.rows[0].task, `Process invoice ${first}`);

    const seen = [];
    const done = await client.waitForBatch(job.id, {
      pollMs: 250,
      timeoutMs: WAIT_MS,
      onProgress: (j) => seen.push(j.status),
    });
    assert.ok(seen.length >= 1);
    assert.equal(seen.at(-1), done.status);
    assert.ok(!["pending", "running"].includes(done.status));
    // A row the policy sends to a human counts in triage_rows until it is resolved.
    assert.equal(done.completed_rows + done.failed_rows + done.triage_rows, 2);
    for (const row of done.rows) {
      assert.ok(["completed", "failed", "awaiting_triage"].includes(row.status), row.status);
      assert.ok("result" in row && "error_message" in row);
    }

    const jobs = await client.listBatches({ limit: 100 });
    assert.ok(Array.isArray(jobs));
    assert.ok(jobs.some((j) => j.id === job.id));
    const completed = await client.listBatches({ status: done.status });
    assert.ok(completed.every((j) => j.status === done.status));

    const results = await client.getBatchResults(job.id);
    assert.equal(results.length, 2);
    assert.deepEqual(results.map((r) => r.row_index), [0, 1]);
    assert.equal(results[0].custom_id, "first");

    const cancel = await client.cancelBatch(job.id).catch((e) => e);
    assert.ok(cancel instanceof BadRequestError, "a finished job cannot be cancelled");
  });

  test("cancelBatch cancels a pending job", async () => {
    const rows = Array.from({ length: 200 }, () => ({ task: `Process invoice ${invoice()}`, data: { amount: 10 } }));
    const job = await client.createBatch("ap_specialist", rows);
    assert.deepEqual(await client.cancelBatch(job.id), { cancelled: true });
    const after = await client.getBatch(job.id);
    assert.equal(after.status, "cancelled");
  });

  test("retryBatch queues a job's failed rows again", async () => {
    // `center` fails a task that no specialist fits.
    const job = await client.createBatch("center", [{ task: "Say hello" }, { task: QUOTES_TASK }]);
    const done = await client.waitForBatch(job.id, { pollMs: 250, timeoutMs: WAIT_MS });
    assert.equal(done.failed_rows, 1);
    assert.match(done.rows[0].error_message, /specialist/);
    const retried = await client.retryBatch(job.id);
    assert.equal(retried.id, job.id, "the same job, its failed rows queued again");
    assert.equal(retried.status, "running");
    assert.equal(retried.failed_rows, 0);
    const again = await client.waitForBatch(job.id, { pollMs: 250, timeoutMs: WAIT_MS });
    assert.equal(again.failed_rows, 1);
    assert.equal(again.completed_rows, 1);
  });

  test("more than 500 rows, no rows, or no agent type is a BadRequestError", async () => {
    const rows = Array.from({ length: 501 }, (_, i) => ({ task: `Row ${i}` }));
    const error = await client.createBatch("ap_specialist", rows).catch((e) => e);
    assert.ok(error instanceof BadRequestError, String(error));
    assert.equal(error.message, "Maximum 500 rows per batch");
    await assert.rejects(client.createBatch("ap_specialist", []), BadRequestError);
    await assert.rejects(client.createBatch("", [{ task: "x" }]), BadRequestError);
    await assert.rejects(client.getBatch(randomUUID()), NotFoundError);
  });
});
