// Starts a real EClips server (`eclips serve`) on a fresh SQLite database and a free port.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";

import { eclipsBin } from "./paths.mjs";

const KEY_PATTERN = /eck_live_[0-9A-Za-z]{36}/;
const START_TIMEOUT_MS = 90_000;

/**
 * Returns `{ baseUrl, apiKey, dir, output(), stop() }`. `env` adds server settings
 * (ECLIPS_*), `args` extra `eclips serve` options. On a first start with an empty database the server prints a fresh API key.
 * Set ECLIPS_SERVER_LOG=1 to print the server's output when it stops.
 */
export async function startEClipsServer({ env = {}, args = [] } = {}) {
  if (!existsSync(eclipsBin)) {
    throw new Error(
      `${eclipsBin} not found: install the server first (make install), or set ECLIPS_BIN`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "eclips-ts-sdk-"));
  const port = await freePort();
  const childEnv = { ...process.env, ...env };
  for (const name of ["ECLIPS_API_KEY", "ECLIPS_BASE_URL", "ECLIPS_PORT", "ECLIPS_HOST"]) {
    delete childEnv[name];
  }
  childEnv.ECLIPS_DATABASE_URL = `sqlite+aiosqlite:///${join(dir, "eclips.db")}`;
  const child = spawn(eclipsBin, ["serve", "--port", String(port), ...args], {
    cwd: dir,
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  let running = true;
  exited.then(() => (running = false));

  const server = {
    baseUrl: `http://127.0.0.1:${port}`,
    apiKey: undefined,
    dir,
    output: () => `--- stdout\n${stdout}\n--- stderr\n${stderr}`,
    async stop() {
      if (process.env.ECLIPS_SERVER_LOG) console.error(server.output());
      if (running) {
        child.kill("SIGTERM");
        const stopped = await Promise.race([exited, delay(10_000).then(() => null)]);
        if (stopped === null) {
          child.kill("SIGKILL");
          await exited;
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (!running) throw new Error(`eclips serve exited early\n${server.output()}`);
      if (Date.now() > deadline) throw new Error(`eclips serve did not start\n${server.output()}`);
      server.apiKey ??= stdout.match(KEY_PATTERN)?.[0];
      if (server.apiKey && (await healthy(server.baseUrl))) return server;
      await delay(200);
    }
  } catch (error) {
    await server.stop();
    throw error;
  }
}

async function healthy(baseUrl) {
  try {
    const response = await fetch(`${baseUrl}/v1/health`, { signal: AbortSignal.timeout(2000) });
    return response.ok;
  } catch {
    return false;
  }
}

async function freePort() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
