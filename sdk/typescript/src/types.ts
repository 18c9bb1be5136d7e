/**
 * Request and response shapes. Response field names are the manual's, in snake_case.
 * Timestamps are ISO-8601 UTC strings (`2026-06-06T09:00:00.000Z`); ids are UUID strings.
 */

// --- Shared -------------------------------------------------------------------------------

/** Any JSON object. */
export type JSONObject = { [key: string]: unknown };

/** One page of a paginated list. */
export interface Page<T> {
  data: T[];
  total: number;
  limit: number;
  offset: number;
}

/** Query of a paginated list: `limit` 1..100 (default 20), `offset` >= 0. */
export interface PageParams {
  limit?: number;
  offset?: number;
}

// --- Health -------------------------------------------------------------------------------

export interface Health {
  status: string;
  version: string;
  timestamp: string;
}

// --- Runs ---------------------------------------------------------------------------------

export type RunStatus =
  | "queued"
  | "running"
  | "completed"
  | "failed"
  | "awaiting_triage"
  | "cancelled";

export type Priority = "low" | "normal" | "high" | "urgent";

export interface RunParams {
  /** What the agent must do. Required. */
  task: string;
  /** The agent; the server defaults to `center`. */
  agentType?: string;
  /** Same as `agentType`, spelled as on the wire. */
  agent_type?: string;
  data?: JSONObject;
  priority?: Priority;
  /** A URL that receives this run's events. */
  webhookUrl?: string;
  /** Same as `webhookUrl`, spelled as on the wire. */
  webhook_url?: string;
}

/** `POST /v1/run` answers 202 with this. */
export interface RunAccepted {
  run_id: string;
  status: RunStatus;
  agent_type: string;
  estimated_completion: "async";
}

/** A run as listed by `GET /v1/runs`. */
export interface RunSummary {
  id: string;
  agent_type: string;
  status: RunStatus;
  priority: Priority;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  confidence_score: number | null;
  requires_triage: boolean;
  error_message: string | null;
  /** Set on runs that are rows of a batch. */
  batch_id?: string | null;
  row_index?: number | null;
  credits_charged?: number;
}

/** A run as returned by `GET /v1/runs/:id`. */
export interface Run extends RunSummary {
  task: string;
  data: JSONObject;
  output: JSONObject | null;
  progress?: JSONObject[];
  credits?: number;
  attempts?: number;
  custom_id?: string | null;
  retry_of?: string | null;
}

/** `cancelled` when its run was cancelled while it waited. */
export type TriageStatus = "pending" | "approved" | "rejected" | "cancelled";

/** The triage item linked to a run. */
export interface TriageItem {
  id: string;
  run_id: string;
  status: TriageStatus;
  triage_reason: string;
  created_at: string;
  resolved_at?: string | null;
  resolution_note?: string | null;
}

/** `GET /v1/runs/:id`: the run plus any linked triage item. */
export interface RunWithTriage {
  run: Run;
  triage_item: TriageItem | null;
}

export interface ListRunsParams extends PageParams {
  status?: RunStatus;
}

/** One `data:` event of `GET /v1/runs/:id/stream`. */
export interface RunStreamEvent {
  status: RunStatus;
  confidence: number | null;
  result: JSONObject | null;
  error: string | null;
  /** The steps the agent reported so far (beyond the manual's four fields). */
  progress?: JSONObject[];
}

export interface Cancelled {
  cancelled: true;
}

// --- Triage -------------------------------------------------------------------------------

/** A pending triage item joined to its run, as listed by `GET /v1/triage`. */
export interface TriageListItem {
  id: string;
  run_id: string;
  status: TriageStatus;
  triage_reason: string;
  created_at: string;
  agent_runs: {
    id: string;
    agent_type: string;
    confidence_score: number | null;
  };
}

export interface ApproveTriageParams {
  resolutionNote?: string;
  resolution_note?: string;
  /** An edited output that replaces the run's output. */
  output?: JSONObject;
}

export interface RejectTriageParams {
  reason?: string;
  resolutionNote?: string;
  resolution_note?: string;
}

/** What approving or rejecting a triage item returns. */
export interface TriageResolution {
  id: string;
  status: TriageStatus;
  resolved_at: string | null;
  resolution_note?: string | null;
}

// --- Webhooks -----------------------------------------------------------------------------

export type WebhookEventType =
  | "run.completed"
  | "run.failed"
  | "run.triage_required"
  | "run.cancelled"
  | "batch.completed";

export interface CreateWebhookParams {
  /** Must start with `https://`. */
  url: string;
  /** A non-empty list of event types. */
  events: WebhookEventType[];
}

export interface Webhook {
  id: string;
  url: string;
  events: WebhookEventType[];
  is_active: boolean;
  /** Why the server stopped delivering (after failing for too long); `enableWebhook` resumes. */
  disabled_reason?: string | null;
  created_at: string;
}

/** A webhook as created: the signing secret is returned this once. */
export interface WebhookWithSecret extends Webhook {
  secret: string;
}

/** One HTTP attempt to deliver an event to a webhook, as listed by its deliveries. */
export interface WebhookDelivery {
  id: string;
  delivery_id: string;
  event_id: string;
  event_type: WebhookEventType;
  /** 1 for the first attempt, 2 for the first retry, ... */
  attempt: number;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
  created_at: string;
}

/** A webhook's new secret; the previous one keeps signing beside it until it expires. */
export interface WebhookSecretRotation {
  id: string;
  secret: string;
  previous_secret_expires_at: string | null;
}

/** The organization's secret that signs events sent to a run's or batch's `webhook_url`. */
export interface SigningSecret {
  secret: string;
}

export interface Deleted {
  success: true;
}

/** The body of a webhook delivery, as returned by `verifyWebhook`. */
export interface WebhookPayload {
  /** The event id, also sent as the `webhook-id` header. */
  id: string;
  type: WebhookEventType;
  created_at: string;
  data: JSONObject;
}

// --- Batches ------------------------------------------------------------------------------

export type BatchStatus =
  | "pending"
  | "running"
  | "awaiting_triage"
  | "completed"
  | "failed"
  | "cancelled";

/** One row of a batch to create. */
export interface BatchRowInput {
  task: string;
  data?: JSONObject;
  /** Your own id for the row, returned with its result. */
  custom_id?: string;
}

export interface CreateBatchOptions {
  name?: string;
  /** A URL that receives the events of this batch's rows. */
  webhookUrl?: string;
  webhook_url?: string;
}

export interface BatchJob {
  id: string;
  name: string | null;
  agent_type: string;
  status: BatchStatus;
  total_rows: number;
  completed_rows: number;
  failed_rows: number;
  /** Rows whose agent work is done but wait for a human (see `listTriage`). */
  triage_rows: number;
  cancelled_rows: number;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  webhook_url?: string | null;
}

/** One row of a batch: a run of its own (`id` is the run's id), its output as `result`. */
export interface BatchRow {
  id: string;
  row_index: number;
  custom_id: string | null;
  task: string;
  status: RunStatus;
  result: JSONObject | null;
  error_message: string | null;
}

/** `getBatch`: the job's fields at the top level, plus its rows ordered by `row_index`. */
export type BatchJobWithRows = BatchJob & { rows: BatchRow[] };

export interface ListBatchesParams extends PageParams {
  status?: BatchStatus;
}

// --- Usage --------------------------------------------------------------------------------

export interface Usage {
  plan: string;
  scope: string;
  period: string;
  /** -1 on an unlimited plan. */
  included_credits: number;
  topup_credits: number;
  credits_used: number;
  /** null on an unlimited plan. */
  credits_remaining: number | null;
  unlimited: boolean;
  topup_price_per_1000_usd: number;
}

export interface LedgerEntry {
  id: string;
  kind: string;
  credits: number;
  period: string;
  run_id: string | null;
  member_id: string | null;
  description: string;
  created_at: string;
}

export interface MemberUsage {
  member_id: string | null;
  email: string | null;
  runs: number;
  credits_used: number;
}

export interface UsageMembers {
  period: string;
  data: MemberUsage[];
}

// --- Agents -------------------------------------------------------------------------------

/** An agent type the server runs. */
export interface Agent {
  agent_type: string;
  description: string;
  credits_per_run: number;
  /** JSON Schema of the agent's settings. */
  settings_schema: JSONObject;
}

/** An agent's settings for your organization (defaults where never set). */
export interface AgentSettings {
  agent_type: string;
  settings: JSONObject;
}
