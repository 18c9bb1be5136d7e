// The CommonJS build exposes the same API as the ES module build.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";

import * as esm from "@eclips/sdk";

const require = createRequire(import.meta.url);

test("require('@eclips/sdk') has the same exports as import", () => {
  const cjs = require("@eclips/sdk");
  assert.deepEqual(Object.keys(cjs).sort(), Object.keys(esm).sort());
  const client = new cjs.EClipsClient({ baseUrl: "http://127.0.0.1:1/" });
  assert.equal(client.baseUrl, "http://127.0.0.1:1");
  assert.equal(typeof client.createBatch, "function");
  const error = new cjs.NotFoundError(404, "Run not found", {}, new Headers());
  assert.ok(error instanceof cjs.APIError && error instanceof cjs.EClipsError);
});

test("both builds ship type declarations", () => {
  const pkg = require("../../package.json");
  for (const condition of ["import", "require"]) {
    const types = pkg.exports["."][condition].types;
    assert.ok(require("node:fs").existsSync(new URL(`../../${types}`, import.meta.url)), types);
  }
});
