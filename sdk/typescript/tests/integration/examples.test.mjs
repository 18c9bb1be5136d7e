// The manual's TypeScript snippets (examples/), run as a user would run them, against a real
// server: only ECLIPS_BASE_URL and ECLIPS_API_KEY are given.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";

import { EClipsClient } from "@eclips/sdk";

import { startEClipsServer } from "../helpers/eclips-server.mjs";
import { packageRoot } from "../helpers/paths.mjs";

const run = promisify(execFile);

let server;
// The "From the SDK" snippet cancels the batch it just created. With a worker, both rows
// reach triage within milliseconds and the cancel is (rightly) refused; without one the
// job stays pending, as the snippet assumes.
let idleServer;

before(async () => {
  [server, idleServer] = await Promise.all([
    startEClipsServer(),
    startEClipsServer({ args: ["--no-worker"] }),
  ]);
});

after(async () => {
  await Promise.all([server?.stop(), idleServer?.stop()]);
});

async function runExample(name, target = server) {
  const { ECLIPS_API_KEY: _key, ECLIPS_BASE_URL: _url, ...env } = process.env;
  try {
    return await run(process.execPath, [join(packageRoot, "dist/examples", `${name}.js`)], {
      env: { ...env, ECLIPS_BASE_URL: target.baseUrl, ECLIPS_API_KEY: target.apiKey },
      timeout: 120_000,
    });
  } catch (error) {
    assert.fail(`examples/${name}.ts failed (exit ${error.code}):\n${error.stdout}\n${error.stderr}`);
  }
}

test('"From the SDK" (batches.txt) runs unchanged', async () => {
  const { stdout } = await runExample("from-the-sdk", idleServer);
  assert.match(stdout, /^0 \/ 2$/m);
  const client = new EClipsClient({ baseUrl: idleServer.baseUrl, apiKey: idleServer.apiKey });
  const [job] = await client.listBatches({ limit: 1 });
  assert.equal(job.name, "June invoices");
  assert.equal(job.status, "cancelled");
});

test('the worked example "Process a month of invoices" runs unchanged', async () => {
  const { stdout } = await runExample("process-invoices");
  const lines = stdout.trim().split("\n");
  for (const line of lines.slice(0, -1)) assert.match(line, /^\d+ \/ 3$/);
  const done = lines.at(-1).match(/^done: (\d+) failed: (\d+)$/);
  assert.ok(done, `last line: ${lines.at(-1)}`);

  const client = new EClipsClient({ baseUrl: server.baseUrl, apiKey: server.apiKey });
  const [listed] = await client.listBatches({ limit: 1 });
  const job = await client.getBatch(listed.id);
  assert.equal(job.total_rows, 3);
  assert.ok(!["pending", "running"].includes(job.status));
  assert.equal(job.completed_rows, Number(done[1]));
  assert.equal(job.failed_rows, Number(done[2]));
  assert.deepEqual(job.rows.map((r) => r.task), [
    "Process invoice INV-1001",
    "Process invoice INV-1002",
    "Process invoice INV-1003",
  ]);
});
