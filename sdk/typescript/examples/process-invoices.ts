// The manual's worked example "Process a month of invoices" (batches.txt), runnable: the
// client's baseUrl comes from ECLIPS_BASE_URL and `invoices` is a small array.
import { EClipsClient } from "@eclips/sdk";

const client = new EClipsClient({
  apiKey: process.env.ECLIPS_API_KEY!,
  baseUrl: process.env.ECLIPS_BASE_URL,
});

const invoices = [
  { number: "INV-1001", amount: 480 },
  { number: "INV-1002", amount: 12000 },
  { number: "INV-1003", amount: 1250.5 },
];

// 1. Submit up to 500 rows in one call.
const rows = invoices.map((inv) => ({
  task: `Process invoice ${inv.number}`,
  data: { amount: inv.amount },
}));
const { id } = await client.createBatch("ap_specialist", rows, { name: "June invoices" });

// 2. Poll until every row reaches a terminal state.
let job = await client.getBatch(id);
while (job.status === "pending" || job.status === "running") {
  await new Promise((r) => setTimeout(r, 3000));
  job = await client.getBatch(id);
  console.log(`${job.completed_rows + job.failed_rows} / ${job.total_rows}`);
}

// 3. Inspect per-row results (failed_rows tells you how many to retry).
console.log("done:", job.completed_rows, "failed:", job.failed_rows);
