// streamRun's SSE parsing and waitForRun, against a scripted node:http server.
import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { describe, test } from "node:test";

import { EClipsClient, NotFoundError, WaitTimeoutError } from "@eclips/sdk";

import { json, startMockServer } from "../helpers/mock-server.mjs";

const event = (status, extra = {}) =>
  JSON.stringify({ status, confidence: null, result: null, error: null, ...extra });

async function collect(iterable) {
  const out = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe("streamRun", () => {
  test("yields each data event, across chunk boundaries, skipping pings", async () => {
    const server = await startMockServer(async (req, res) => {
      assert.equal(req.headers.accept, "text/event-stream");
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(": ping\n\n");
      const text = `data: ${event("running")}\n\ndata: ${event("completed", { confidence: 0.94, result: { note: "café" } })}\r\n\r\n`;
      // Split inside a field name, inside the two bytes of "é", and between "\r" and "\n".
      const bytes = Buffer.from(text);
      const accent = bytes.indexOf(Buffer.from("é")) + 1;
      const cuts = [0, 3, accent, bytes.length - 3, bytes.length - 2, bytes.length];
      for (let i = 0; i + 1 < cuts.length; i++) {
        res.write(bytes.subarray(cuts[i], cuts[i + 1]));
        await delay(5);
      }
      res.end();
    });
    try {
      const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
      const events = await collect(client.streamRun("r1"));
      assert.deepEqual(events, [
        { status: "running", confidence: null, result: null, error: null },
        { status: "completed", confidence: 0.94, result: { note: "café" }, error: null },
      ]);
      assert.equal(server.requests[0].url, "/v1/runs/r1/stream");
    } finally {
      await server.close();
    }
  });

  test("multi-line data is joined, and a named event and id are accepted", async () => {
    const server = await startMockServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end('id: 7\nevent: status\ndata: {"status":\ndata: "failed","error":"boom é"}\n\n');
    });
    try {
      const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
      assert.deepEqual(await collect(client.streamRun("r1")), [
        { status: "failed", error: "boom é" },
      ]);
    } finally {
      await server.close();
    }
  });

  test("breaking out of the loop closes the connection", async () => {
    let closed;
    const closedPromise = new Promise((resolve) => (closed = resolve));
    const server = await startMockServer(async (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.on("close", () => closed());
      for (let i = 0; i < 100 && !res.destroyed; i++) {
        res.write(`data: ${event("running")}\n\n`);
        await delay(20);
      }
      res.end();
    });
    try {
      const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
      for await (const e of client.streamRun("r1")) {
        assert.equal(e.status, "running");
        break;
      }
      await closedPromise;
    } finally {
      await server.close();
    }
  });

  test("an error status is thrown before any event", async () => {
    const server = await startMockServer((_req, res) => json(res, 404, { error: "Run not found" }));
    try {
      const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
      await assert.rejects(collect(client.streamRun("r1")), (e) => {
        assert.ok(e instanceof NotFoundError);
        assert.equal(e.message, "Run not found");
        return true;
      });
    } finally {
      await server.close();
    }
  });

  test("reconnect: true reopens closed streams until a terminal status", async () => {
    const server = await startMockServer((_req, res, n) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(`data: ${event(n < 3 ? "running" : "completed")}\n\n`);
    });
    try {
      const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
      const once = await collect(client.streamRun("r1"));
      assert.deepEqual(once.map((e) => e.status), ["running"]);
      const all = await collect(client.streamRun("r1", { reconnect: true }));
      assert.deepEqual(all.map((e) => e.status), ["running", "completed"]);
      assert.equal(server.requests.length, 3);
    } finally {
      await server.close();
    }
  });
});

describe("waitForRun", () => {
  const runAnswer = (status) => ({ run: { id: "r1", status }, triage_item: null });

  test("polls until a terminal status", async () => {
    const statuses = ["queued", "running", "completed"];
    const server = await startMockServer((_req, res, n) => json(res, 200, runAnswer(statuses[n - 1])));
    try {
      const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
      const { run } = await client.waitForRun("r1", { pollMs: 10 });
      assert.equal(run.status, "completed");
      assert.equal(server.requests.length, 3);
    } finally {
      await server.close();
    }
  });

  test("stops at awaiting_triage: the rest is a human's", async () => {
    const server = await startMockServer((_req, res) => json(res, 200, runAnswer("awaiting_triage")));
    try {
      const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
      assert.equal((await client.waitForRun("r1", { pollMs: 10 })).run.status, "awaiting_triage");
    } finally {
      await server.close();
    }
  });

  test("timeoutMs gives up with WaitTimeoutError", async () => {
    const server = await startMockServer((_req, res) => json(res, 200, runAnswer("running")));
    try {
      const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k" });
      await assert.rejects(client.waitForRun("r1", { pollMs: 20, timeoutMs: 100 }), WaitTimeoutError);
    } finally {
      await server.close();
    }
  });
});
