import { EClipsError, WaitTimeoutError } from "./errors.js";
import { parseJSON, send, sleep } from "./http.js";
import type { HTTPConfig, RequestOptions, RequestSpec } from "./http.js";
import { readServerSentEvents } from "./sse.js";
import type {
  Agent,
  AgentSettings,
  ApproveTriageParams,
  BatchJob,
  BatchJobWithRows,
  BatchRow,
  BatchRowInput,
  Cancelled,
  CreateBatchOptions,
  CreateWebhookParams,
  Deleted,
  Health,
  JSONObject,
  LedgerEntry,
  ListBatchesParams,
  ListRunsParams,
  Page,
  PageParams,
  RejectTriageParams,
  RunAccepted,
  RunParams,
  RunStatus,
  RunStreamEvent,
  RunSummary,
  RunWithTriage,
  SigningSecret,
  TriageListItem,
  TriageResolution,
  Usage,
  UsageMembers,
  Webhook,
  WebhookDelivery,
  WebhookSecretRotation,
  WebhookWithSecret,
} from "./types.js";

export const DEFAULT_BASE_URL = "http://127.0.0.1:8080";

export interface ClientOptions {
  /** Bearer key (`eck_live_...`). Defaults to `ECLIPS_API_KEY`. Only `health()` works without. */
  apiKey?: string | undefined;
  /** Server root (a trailing `/v1` is dropped). Defaults to `ECLIPS_BASE_URL` or `http://127.0.0.1:8080`. */
  baseUrl?: string | undefined;
  /** Retries of a failed request (network error, timeout, 408, 429, 5xx). Default 2. */
  maxRetries?: number;
  /** Per-attempt timeout in milliseconds. Default 60 000. */
  timeoutMs?: number;
  /** A `fetch` implementation; defaults to the platform's. */
  fetch?: typeof fetch;
}

export interface StreamRunOptions extends RequestOptions {
  /**
   * The server closes a stream after about 30 s even when the run is still going. With
   * `reconnect: true` the iterator opens a new stream until the run reaches a terminal
   * status (completed, failed, cancelled).
   */
  reconnect?: boolean;
}

export interface WaitForRunOptions {
  /** Milliseconds between polls. Default 1000. */
  pollMs?: number;
  /** Give up (throwing {@link WaitTimeoutError}) after this many milliseconds. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface WaitForBatchOptions {
  /** Called with the job after every poll, the first one included. */
  onProgress?: (job: BatchJobWithRows) => void | Promise<void>;
  /** Milliseconds between polls. Default 2000. */
  pollMs?: number;
  /** Give up (throwing {@link WaitTimeoutError}) after this many milliseconds. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Statuses after which a run never changes again. */
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ["completed", "failed", "cancelled"];

/**
 * The EClips REST API client.
 *
 * ```ts
 * const client = new EClipsClient({ apiKey: process.env.ECLIPS_API_KEY });
 * const { run_id } = await client.run({ task: "Get 3 vendor quotes for 500 laptops" });
 * const { run } = await client.waitForRun(run_id);
 * ```
 */
export class EClipsClient {
  readonly baseUrl: string;
  readonly maxRetries: number;
  readonly timeoutMs: number;
  readonly #config: HTTPConfig;

  constructor(options: ClientOptions = {}) {
    const baseUrl = options.baseUrl ?? env("ECLIPS_BASE_URL") ?? DEFAULT_BASE_URL;
    // Every path starts with /v1, so a base URL given with it works too.
    this.baseUrl = baseUrl.trim().replace(/\/+$/, "").replace(/\/v1$/, "");
    this.maxRetries = options.maxRetries ?? 2;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== "function") {
      throw new EClipsError("No fetch implementation: use Node 18+ or pass `fetch`");
    }
    this.#config = {
      baseUrl: this.baseUrl,
      apiKey: options.apiKey ?? env("ECLIPS_API_KEY"),
      maxRetries: this.maxRetries,
      timeoutMs: this.timeoutMs,
      fetch: fetchImpl.bind(globalThis),
    };
  }

  // --- Health -----------------------------------------------------------------------------

  /** `GET /v1/health`: public, needs no key. */
  async health(options?: RequestOptions): Promise<Health> {
    return this.#json({ method: "GET", path: "/v1/health" }, options);
  }

  // --- Runs -------------------------------------------------------------------------------

  /** `POST /v1/run`: starts a run and returns at once (202) with its `run_id`. */
  async run(params: RunParams, options?: RequestOptions): Promise<RunAccepted> {
    const body = {
      task: params.task,
      agent_type: params.agentType ?? params.agent_type,
      data: params.data,
      priority: params.priority,
      webhook_url: params.webhookUrl ?? params.webhook_url,
    };
    return this.#json({ method: "POST", path: "/v1/run", body }, options);
  }

  /** `GET /v1/runs/:id`: the full run plus any linked triage item. */
  async getRun(id: string, options?: RequestOptions): Promise<RunWithTriage> {
    return this.#json({ method: "GET", path: `/v1/runs/${seg(id)}` }, options);
  }

  /** `GET /v1/runs`: one page of runs, newest first. */
  async listRuns(params: ListRunsParams = {}, options?: RequestOptions): Promise<Page<RunSummary>> {
    const { status, limit, offset } = params;
    return this.#json({ method: "GET", path: "/v1/runs", query: { status, limit, offset } }, options);
  }

  /**
   * `GET /v1/runs/:id/stream`: the run's status events, about one every 2 s, until the run
   * reaches a terminal status or the server closes the stream (after about 30 s; see
   * {@link StreamRunOptions.reconnect}). Breaking out of the loop closes the connection.
   */
  async *streamRun(
    id: string,
    options: StreamRunOptions = {},
  ): AsyncGenerator<RunStreamEvent, void, undefined> {
    for (;;) {
      const answer = await send(
        this.#config,
        { method: "GET", path: `/v1/runs/${seg(id)}/stream`, stream: true },
        options,
      );
      const body = answer.response.body;
      if (!body) return;
      let last: RunStreamEvent | undefined;
      for await (const message of readServerSentEvents(body)) {
        let event: RunStreamEvent;
        try {
          event = JSON.parse(message.data) as RunStreamEvent;
        } catch (error) {
          throw new EClipsError(`Invalid JSON in a stream event: ${message.data}`, {
            cause: error,
          });
        }
        last = event;
        yield event;
      }
      if (!options.reconnect || (last && TERMINAL_RUN_STATUSES.includes(last.status))) return;
    }
  }

  /** `POST /v1/runs/:id/cancel`. */
  async cancelRun(id: string, options?: RequestOptions): Promise<Cancelled> {
    return this.#json({ method: "POST", path: `/v1/runs/${seg(id)}/cancel` }, options);
  }

  /** Queues a failed run again as a new run linked to it (`retry_of`). */
  async retryRun(id: string, options?: RequestOptions): Promise<RunAccepted> {
    return this.#json({ method: "POST", path: `/v1/runs/${seg(id)}/retry` }, options);
  }

  /**
   * Polls a run until it is completed, failed or cancelled, or waits for a human
   * (`awaiting_triage`); returns `{ run, triage_item }`.
   */
  async waitForRun(id: string, options: WaitForRunOptions = {}): Promise<RunWithTriage> {
    const { pollMs = 1000, timeoutMs, signal } = options;
    return poll({
      fetch: () => this.getRun(id, { signal }),
      done: ({ run }) => TERMINAL_RUN_STATUSES.includes(run.status) || run.status === "awaiting_triage",
      timeout: ({ run }) => `Run ${id} is still ${run.status} after ${timeoutMs} ms`,
      pollMs,
      timeoutMs,
      signal,
    });
  }

  // --- Triage -----------------------------------------------------------------------------

  /** `GET /v1/triage`: one page of pending triage items, each joined to its run. */
  async listTriage(params: PageParams = {}, options?: RequestOptions): Promise<Page<TriageListItem>> {
    const { limit, offset } = params;
    return this.#json({ method: "GET", path: "/v1/triage", query: { limit, offset } }, options);
  }

  /** `POST /v1/triage/:id/approve`: approves the item; its run becomes completed. */
  async approveTriage(
    id: string,
    params: ApproveTriageParams = {},
    options?: RequestOptions,
  ): Promise<TriageResolution> {
    const body = {
      resolution_note: params.resolutionNote ?? params.resolution_note,
      output: params.output,
    };
    const path = `/v1/triage/${seg(id)}/approve`;
    return this.#data({ method: "POST", path, body }, options);
  }

  /** `POST /v1/triage/:id/reject`: rejects the item; its run becomes cancelled. */
  async rejectTriage(
    id: string,
    params: RejectTriageParams = {},
    options?: RequestOptions,
  ): Promise<TriageResolution> {
    const body = {
      reason: params.reason,
      resolution_note: params.resolutionNote ?? params.resolution_note,
    };
    const path = `/v1/triage/${seg(id)}/reject`;
    return this.#data({ method: "POST", path, body }, options);
  }

  // --- Webhooks ---------------------------------------------------------------------------

  /** `POST /v1/webhooks`: the result carries the signing `secret`, returned this once. */
  async createWebhook(
    params: CreateWebhookParams,
    options?: RequestOptions,
  ): Promise<WebhookWithSecret> {
    const body = { url: params.url, events: params.events };
    return this.#data({ method: "POST", path: "/v1/webhooks", body }, options);
  }

  /** `GET /v1/webhooks`: the organization's webhooks (without secrets). */
  async listWebhooks(options?: RequestOptions): Promise<Webhook[]> {
    return this.#data({ method: "GET", path: "/v1/webhooks" }, options);
  }

  /** `DELETE /v1/webhooks/:id`. */
  async deleteWebhook(id: string, options?: RequestOptions): Promise<Deleted> {
    return this.#json({ method: "DELETE", path: `/v1/webhooks/${seg(id)}` }, options);
  }

  /** `GET /v1/webhooks/:id/deliveries`: one page of delivery attempts, newest first. */
  async listWebhookDeliveries(
    id: string,
    params: PageParams = {},
    options?: RequestOptions,
  ): Promise<Page<WebhookDelivery>> {
    const { limit, offset } = params;
    const path = `/v1/webhooks/${seg(id)}/deliveries`;
    return this.#json({ method: "GET", path, query: { limit, offset } }, options);
  }

  /**
   * `POST /v1/webhooks/:id/rotate-secret`: a new signing secret, returned this once; the old
   * one keeps signing beside it until `previous_secret_expires_at`.
   */
  async rotateWebhookSecret(id: string, options?: RequestOptions): Promise<WebhookSecretRotation> {
    const path = `/v1/webhooks/${seg(id)}/rotate-secret`;
    return this.#data({ method: "POST", path }, options);
  }

  /** `POST /v1/webhooks/:id/enable`: resumes a webhook the server disabled. */
  async enableWebhook(id: string, options?: RequestOptions): Promise<Webhook> {
    return this.#data({ method: "POST", path: `/v1/webhooks/${seg(id)}/enable` }, options);
  }

  /**
   * `GET /v1/webhooks/signing-secret`: the organization's secret that signs events sent to a
   * run's or batch's `webhook_url` (verify them with `verifyWebhook`).
   */
  async getSigningSecret(options?: RequestOptions): Promise<SigningSecret> {
    return this.#data({ method: "GET", path: "/v1/webhooks/signing-secret" }, options);
  }

  /** `POST /v1/webhooks/signing-secret/rotate`: replaces the organization's signing secret. */
  async rotateSigningSecret(options?: RequestOptions): Promise<SigningSecret> {
    return this.#data({ method: "POST", path: "/v1/webhooks/signing-secret/rotate" }, options);
  }

  // --- Batches ----------------------------------------------------------------------------

  /** `POST /v1/batches`: returns the job, pending; at most 500 rows. */
  async createBatch(
    agentType: string,
    rows: BatchRowInput[],
    options: CreateBatchOptions = {},
    requestOptions?: RequestOptions,
  ): Promise<BatchJob> {
    const body = {
      agent_type: agentType,
      rows,
      name: options.name,
      webhook_url: options.webhookUrl ?? options.webhook_url,
    };
    return (
      await this.#json<{ job: BatchJob }>(
        { method: "POST", path: "/v1/batches", body },
        requestOptions,
      )
    ).job;
  }

  /** `GET /v1/batches/:id`: the job's fields (`status`, `completed_rows`, ...) and its `rows`. */
  async getBatch(id: string, options?: RequestOptions): Promise<BatchJobWithRows> {
    const { job, rows } = await this.#json<{ job: BatchJob; rows: BatchRow[] }>(
      { method: "GET", path: `/v1/batches/${seg(id)}` },
      options,
    );
    return { ...job, rows };
  }

  /** `GET /v1/batches`: the jobs, newest first. */
  async listBatches(params: ListBatchesParams = {}, options?: RequestOptions): Promise<BatchJob[]> {
    const { status, limit, offset } = params;
    return (
      await this.#json<{ jobs: BatchJob[] }>(
        { method: "GET", path: "/v1/batches", query: { status, limit, offset } },
        options,
      )
    ).jobs;
  }

  /** `POST /v1/batches/:id/cancel`: only a pending or running job (else 400). */
  async cancelBatch(id: string, options?: RequestOptions): Promise<Cancelled> {
    return this.#json({ method: "POST", path: `/v1/batches/${seg(id)}/cancel` }, options);
  }

  /** `GET /v1/batches/:id/results`: every row with its result (read from JSON Lines). */
  async getBatchResults(id: string, options?: RequestOptions): Promise<BatchRow[]> {
    const answer = await send(
      this.#config,
      { method: "GET", path: `/v1/batches/${seg(id)}/results` },
      options,
    );
    return answer.text
      .split(/\r?\n/)
      .filter((line) => line.trim() !== "")
      .map((line) => {
        try {
          return JSON.parse(line) as BatchRow;
        } catch (error) {
          throw new EClipsError(`Invalid JSON line in batch results: ${line}`, { cause: error });
        }
      });
  }

  /**
   * `POST /v1/batches/:id/retry`: queues the job's failed rows again; returns the same job,
   * back to running.
   */
  async retryBatch(id: string, options?: RequestOptions): Promise<BatchJob> {
    return (
      await this.#json<{ job: BatchJob }>(
        { method: "POST", path: `/v1/batches/${seg(id)}/retry` },
        options,
      )
    ).job;
  }

  /**
   * Polls a job until it is neither pending nor running (completed, failed, cancelled, or
   * `awaiting_triage` when only human review is left); returns the job with its rows.
   */
  async waitForBatch(id: string, options: WaitForBatchOptions = {}): Promise<BatchJobWithRows> {
    const { onProgress, pollMs = 2000, timeoutMs, signal } = options;
    return poll({
      fetch: async () => {
        const job = await this.getBatch(id, { signal });
        await onProgress?.(job);
        return job;
      },
      done: (job) => job.status !== "pending" && job.status !== "running",
      timeout: (job) => `Batch ${id} is still ${job.status} after ${timeoutMs} ms`,
      pollMs,
      timeoutMs,
      signal,
    });
  }

  // --- Usage ------------------------------------------------------------------------------

  /** `GET /v1/usage`: the organization's credit summary for the current period. */
  async getUsage(options?: RequestOptions): Promise<Usage> {
    return this.#json({ method: "GET", path: "/v1/usage" }, options);
  }

  /** `GET /v1/usage/history`: the last 50 ledger entries. */
  async getUsageHistory(options?: RequestOptions): Promise<LedgerEntry[]> {
    return this.#data({ method: "GET", path: "/v1/usage/history" }, options);
  }

  /** `GET /v1/usage/members`: usage per member for the current period. */
  async getUsageMembers(options?: RequestOptions): Promise<UsageMembers> {
    return this.#json({ method: "GET", path: "/v1/usage/members" }, options);
  }

  // --- Agents -----------------------------------------------------------------------------

  /** `GET /v1/agents`: the agent types this server runs. */
  async listAgents(options?: RequestOptions): Promise<Agent[]> {
    return this.#data({ method: "GET", path: "/v1/agents" }, options);
  }

  /** `GET /v1/agents/:type/settings`: your organization's settings for an agent. */
  async getAgentSettings(agentType: string, options?: RequestOptions): Promise<AgentSettings> {
    return this.#json({ method: "GET", path: `/v1/agents/${seg(agentType)}/settings` }, options);
  }

  /**
   * `PUT /v1/agents/:type/settings`: replaces your organization's settings for an agent
   * (validated against its `settings_schema`); returns them as stored.
   */
  async updateAgentSettings(
    agentType: string,
    settings: JSONObject,
    options?: RequestOptions,
  ): Promise<AgentSettings> {
    const path = `/v1/agents/${seg(agentType)}/settings`;
    return this.#json({ method: "PUT", path, body: settings }, options);
  }

  // --- Internals --------------------------------------------------------------------------

  async #json<T>(spec: RequestSpec, options?: RequestOptions): Promise<T> {
    return parseJSON<T>(await send(this.#config, spec, options));
  }

  /** For answers shaped `{ "data": ... }`: the part inside. */
  async #data<T>(spec: RequestSpec, options?: RequestOptions): Promise<T> {
    return (await this.#json<{ data: T }>(spec, options)).data;
  }
}

/** Fetches until `done`, sleeping `pollMs` between; past `timeoutMs`, a WaitTimeoutError. */
async function poll<T>(spec: {
  fetch: () => Promise<T>;
  done: (value: T) => boolean;
  timeout: (value: T) => string;
  pollMs: number;
  timeoutMs: number | undefined;
  signal: AbortSignal | undefined;
}): Promise<T> {
  const deadline = spec.timeoutMs === undefined ? Infinity : Date.now() + spec.timeoutMs;
  for (;;) {
    const value = await spec.fetch();
    if (spec.done(value)) return value;
    if (Date.now() + spec.pollMs > deadline) throw new WaitTimeoutError(spec.timeout(value));
    await sleep(spec.pollMs, spec.signal);
  }
}

/** Reads `process.env[name]` where there is a `process` (not in browsers). */
function env(name: string): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const value = proc?.env?.[name];
  return value === "" ? undefined : value;
}

/** One path segment, escaped. */
function seg(value: string): string {
  if (typeof value !== "string" || value === "") {
    throw new EClipsError(`Expected a non-empty id, got ${JSON.stringify(value)}`);
  }
  return encodeURIComponent(value);
}
