// The manual's "From the SDK" snippet (batches.txt), runnable: it only adds the client,
// whose baseUrl comes from ECLIPS_BASE_URL.
import { EClipsClient } from "@eclips/sdk";

const client = new EClipsClient({
  apiKey: process.env.ECLIPS_API_KEY!,
  baseUrl: process.env.ECLIPS_BASE_URL,
});

const batch = await client.createBatch("ap_specialist", [
  { task: "Process invoice INV-1001" },
  { task: "Process invoice INV-1002", data: { amount: 12000 } },
], { name: "June invoices" });

// Poll for progress.
const status = await client.getBatch(batch.id);
console.log(status.completed_rows, "/", status.total_rows);

const jobs = await client.listBatches({ status: "running" });
await client.cancelBatch(batch.id);
