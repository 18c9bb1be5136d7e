// The TypeScript client covers every endpoint in endpoints.json, sends each method's request
// to the endpoint listed for it, and the Python SDK has a method for each endpoint too.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, test } from "node:test";

import { EClipsClient } from "@eclips/sdk";

import { json, startMockServer } from "../helpers/mock-server.mjs";
import { endpoints, hasPython, normalizeEndpoint, python } from "../helpers/paths.mjs";

const ID = "x1";
/** Arguments for each method; methods not listed take one id. */
const ARGS = {
  health: [],
  run: [{ task: "t" }],
  listRuns: [],
  listTriage: [],
  createWebhook: [{ url: "https://example.com/hook", events: ["run.completed"] }],
  listWebhooks: [],
  getSigningSecret: [],
  rotateSigningSecret: [],
  createBatch: ["ap_specialist", [{ task: "t" }]],
  listBatches: [],
  getUsage: [],
  getUsageHistory: [],
  getUsageMembers: [],
  listAgents: [],
  updateAgentSettings: [ID, { confidence_threshold: 0.5 }],
};

function publicMethods(cls) {
  return Object.getOwnPropertyNames(cls.prototype).filter(
    (name) => name !== "constructor" && typeof cls.prototype[name] === "function",
  );
}

describe("endpoints.json", () => {
  const tsNames = endpoints.endpoints.map((e) => e.typescript);

  test("lists each endpoint once, with a TypeScript and a Python name", () => {
    const keys = endpoints.endpoints.map((e) => e.endpoint);
    assert.equal(new Set(keys).size, keys.length, "duplicate endpoint");
    assert.equal(new Set(tsNames).size, tsNames.length, "duplicate TypeScript name");
    for (const e of endpoints.endpoints) {
      assert.match(e.endpoint, /^(GET|POST|PUT|DELETE) \/v1\//);
      assert.match(e.typescript, /^[a-z][A-Za-z]*$/);
      assert.match(e.python, /^[a-z][a-z_]*$/);
    }
  });

  test("the client's methods are exactly the endpoints plus the helpers", () => {
    const expected = [...tsNames, ...endpoints.helpers.typescript].sort();
    assert.deepEqual(publicMethods(EClipsClient).sort(), expected);
  });

  test("each method sends its listed request", async () => {
    const server = await startMockServer((req, res) => {
      if (req.url.endsWith("/stream")) {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.end('data: {"status":"completed"}\n\n');
      } else if (req.url.endsWith("/results")) {
        res.writeHead(200, { "content-type": "application/x-ndjson" });
        res.end("{}\n");
      } else {
        json(res, 200, { data: [], job: {}, jobs: [], rows: [] });
      }
    });
    try {
      const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: "k", maxRetries: 0 });
      for (const { endpoint, typescript } of endpoints.endpoints) {
        const args = ARGS[typescript] ?? [ID];
        const result = client[typescript](...args);
        if (typeof result[Symbol.asyncIterator] === "function") {
          for await (const _ of result);
        } else {
          await result;
        }
        const { method, url } = server.requests.at(-1);
        const path = new URL(url, server.baseUrl).pathname.split("/").map((s) => (s === ID ? "{}" : s));
        assert.equal(`${method} ${path.join("/")}`, normalizeEndpoint(endpoint), typescript);
      }
    } finally {
      await server.close();
    }
  });

  test("the Python SDK has a method for every endpoint", (t) => {
    if (!hasPython) return t.skip("no .venv/bin/python in the repository");
    const script = [
      "import json, eclips",
      "names = {}",
      "for cls in ('EClipsClient', 'AsyncEClipsClient'):",
      "    c = getattr(eclips, cls, None)",
      "    if c is not None: names[cls] = [n for n in dir(c) if not n.startswith('_')]",
      "print(json.dumps(names))",
    ].join("\n");
    let clients;
    try {
      clients = JSON.parse(execFileSync(python, ["-c", script], { encoding: "utf8" }));
    } catch (error) {
      assert.fail(`could not import the Python SDK: ${error.stderr ?? error}`);
    }
    assert.ok(clients.EClipsClient, "eclips.EClipsClient is missing");
    for (const [cls, names] of Object.entries(clients)) {
      const missing = endpoints.endpoints.filter((e) => !names.includes(e.python));
      assert.deepEqual(
        missing.map((e) => `${e.endpoint} (${e.python})`),
        [],
        `${cls} lacks methods for these endpoints`,
      );
    }
  });
});
