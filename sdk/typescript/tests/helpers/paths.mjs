import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** sdk/typescript */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** The repository: two levels above the package. */
export const repoRoot = resolve(packageRoot, "../..");

/** The `eclips` command: ECLIPS_BIN, else the repository's virtualenv. */
export const eclipsBin = process.env.ECLIPS_BIN ?? join(repoRoot, ".venv/bin/eclips");
/** The virtualenv's Python, where the Python SDK lives. */
export const python = join(repoRoot, ".venv/bin/python");
export const hasPython = existsSync(python);

export const endpoints = JSON.parse(readFileSync(join(packageRoot, "endpoints.json"), "utf8"));

/** "GET /v1/runs/{run_id}" and "GET /v1/runs/:id" both become "GET /v1/runs/{}". */
export function normalizeEndpoint(endpoint) {
  return endpoint.replace(/\{[^}]*\}|:[A-Za-z_]+/g, "{}");
}
