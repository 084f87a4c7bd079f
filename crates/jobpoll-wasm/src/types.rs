//! The TypeScript declarations of what the API takes and gives, written into
//! the generated `.d.ts` beside the classes wasm-bindgen declares.
//!
//! Outcomes, events and metrics keep the core's serde field names; times in them
//! are microseconds, times in options milliseconds.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** The base class of every error the driver throws or rejects with. */
export class JobpollError extends Error {}

/** Arguments that cannot work. */
export class OptionsError extends JobpollError {
  /** The option at fault (`interval`, `headers`, `profile`, `url`, ...), or null. */
  readonly option: string | null;
}

/** A profile object the core refused; the message is the core's. */
export class ProfileError extends OptionsError {
  readonly option: "profile";
  /** Where the fault is (`completion.values`); empty at the top level. */
  readonly path: string;
  /** An unknown key as written, or null. */
  readonly key: string | null;
  /** An unknown rule or transform name as written, or null. */
  readonly value: string | null;
  /** The known name nearest to what was written, if one is near. */
  readonly suggestion: string | null;
  /** The names known at that place. */
  readonly known: string[];
}

/** The built-in profiles. */
export type BuiltinProfile = "jobs" | "codegen" | "file-tasks" | "turn" | "google" | "azure";

/** A profile in its JSON form (docs/profiles.md). */
export type ProfileObject = { [key: string]: unknown };

/** Options of `new Jobs(options)`. */
export interface JobsOptions {
  /** Called with every event of every job, and with storage warnings. */
  onEvent?: ((event: JobEvent | StorageWarning) => void) | null;
  /** Requests in flight at once (default 256). */
  maxConcurrent?: number | null;
  /** Requests in flight at once to one origin (default 32). */
  maxConcurrentPerOrigin?: number | null;
  /** Root of the jitter; random by default. */
  seed?: number | null;
  /** Hold requests back while the page is hidden (default true). */
  pauseWhenHidden?: boolean | null;
  /**
   * Where running jobs, the history and the results are saved: `localStorage`
   * by default, `null` for memory only, or any object with `getItem`,
   * `setItem` and `removeItem`.
   */
  storage?: StorageLike | null;
  /** The prefix of the saved keys (default `"jobpoll"`). */
  storageKey?: string | null;
}

/** What `storage` takes: `localStorage`, or an object that works like it. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Said once when storage is missing, full or refused, and when a saved value cannot be read. */
export interface StorageWarning {
  type: "storage_warning";
  event: "storage_warning";
  message: string;
  summary: string;
}

/** Headers: an object of names to values, a `Headers`, or `[name, value]` pairs. */
export type HeadersOption =
  | { [name: string]: string | number }
  | Headers
  | ReadonlyArray<readonly [string, string | number]>;

/** Options of `jobs.wait(url, options)`; times in milliseconds. */
export interface WaitOptions {
  profile?: BuiltinProfile | ProfileObject | null;
  /** A preset of schedule and limits: `standard`, `fast`, ... */
  preset?: string | null;
  interval?: number | null;
  timeout?: number | null;
  requestTimeout?: number | null;
  maxAttempts?: number | null;
  maxErrors?: number | null;
  maxBodyBytes?: number | null;
  headers?: HeadersOption | null;
  signal?: AbortSignal | null;
  onEvent?: ((event: JobEvent) => void) | null;
  /** `false` keeps the job out of storage: not restored after a reload, headers not saved. */
  persist?: boolean | null;
}

/** Options of `jobs.submit(url, options)`. */
export interface SubmitOptions extends WaitOptions {
  /** The method of the create request (default POST). */
  method?: string | null;
  /** A string, or a value sent as JSON. */
  body?: unknown;
}

/** Options of `jobs.events(id, options)`. */
export interface EventsOptions {
  /** Unread events kept before the oldest is dropped (default 1024). */
  limit?: number | null;
}

/** The Promise `wait` and `submit` return; `id` is the wait's id (absent when the arguments were refused). */
export type WaitPromise = Promise<Outcome> & { readonly id?: number };

/** Counts and times every outcome carries. */
export interface Stats {
  job_id: string | null;
  /** Microseconds from start to outcome. */
  elapsed: number;
  attempts: number;
  requests: number;
  last_status: string | null;
  unreached?: boolean;
}

/** Why a request got no response. */
export type TransportError =
  | { kind: "connect" | "reset" | "other"; detail: string }
  | { kind: "body_too_large"; detail: number }
  | { kind: "no_response_in_time" | "interrupted" };

/** A failure the server or the network caused. */
export type PollError =
  | ({ error: "transport" } & TransportError)
  | { error: "status"; status: number; excerpt: string }
  | { error: "unreadable"; problem: string; [field: string]: unknown }
  | { error: "body_too_large"; limit: number }
  | { error: "unreachable"; origin: string; failures: number; last: TransportError }
  | { error: "submit_uncertain"; cause: PollError };

export type HintSource = "retry_after_seconds" | "retry_after_date" | "retry_after_ms" | "rate_limit";

/** A wait the server asked for. */
export interface ServerHint {
  delay: number;
  source: HintSource;
  capped_from?: number;
}

/** Which limit ended the wait. */
export type WaitLimit =
  | { limit: "deadline"; deadline: number }
  | { limit: "max_attempts"; max_attempts: number }
  | { limit: "hint_past_deadline"; hint: ServerHint; remaining: number };

interface OutcomeCommon {
  /** A sentence a person reads. */
  summary: string;
  stats: Stats;
}

/** How a wait ended: the Promise of `wait` and `submit` resolves with it. */
export type Outcome = OutcomeCommon &
  (
    | { outcome: "succeeded"; ok: true; result: unknown; results: unknown; results_error: string | null }
    | { outcome: "failed"; ok: false; message: string; details: unknown }
    | {
        outcome: "cancelled";
        ok: false;
        by: { by: "client"; server_confirmed: boolean | null } | { by: "server" };
      }
    | { outcome: "timed_out"; ok: false; reason: WaitLimit }
    | { outcome: "gave_up"; ok: false; last_error: PollError }
    | { outcome: "unauthorized" | "rejected"; ok: false; status: number; message: string }
    | { outcome: "not_found"; ok: false }
  );

interface EventCommon {
  /** The wait's id. */
  id: number;
  /** The URL the wait was given. */
  url: string;
  /** A line a person reads. */
  summary: string;
  /** From `jobs.events()` only: events dropped just before this one. */
  dropped?: number;
}

/** Something a UI may want to show while a job runs. */
export type JobEvent = EventCommon &
  (
    | { event: "submitted"; job_id: string | null; status_url: string }
    | { event: "status_changed"; from: string | null; to: string }
    | {
        event: "progress";
        attempt: number;
        max_attempts: number | null;
        status: string;
        percentage: number | null;
        step: string | null;
        next_poll_in: number;
        elapsed: number;
        eta: number | null;
      }
    | { event: "retrying"; cause: PollError; consecutive_errors: number; delay: number }
    | { event: "hint_capped"; source: HintSource; requested: number; used: number }
    | { event: "hint_ignored"; problem: { problem: string; [field: string]: unknown } }
    | { event: "updated"; revision: number; body: unknown }
    | { event: "results_fetched"; results: unknown }
    | { event: "cancel_requested" }
  );

/** The async iterator `jobs.events()` returns. */
export interface EventStream extends AsyncIterableIterator<JobEvent> {
  /** Events dropped so far because the iterator was not read. */
  readonly dropped: number;
  return(value?: unknown): Promise<IteratorResult<JobEvent>>;
}

/** A wait still running, as `jobs.list()` shows it. */
export interface Listed {
  id: number;
  url: string;
  mode: "wait" | "submit";
  status: string | null;
}

/** Counts over the fleet's life. */
export interface FleetMetrics {
  jobs: number;
  joined: number;
  finished: number;
  outcomes: { [kind: string]: number };
  errors: { [kind: string]: number };
  requests: number;
  attempts: number;
  completion_time: number;
}

/** What `jobs.metrics()` returns. */
export interface Metrics {
  totals: FleetMetrics;
  running: number;
  waiting: number;
  in_flight: number;
  throttled_origins: number;
  paused: boolean;
  /** Why requests are held back: the caller's `pause()`, a hidden page. */
  paused_by: Array<"user" | "hidden">;
}

/** A wait resumed by `jobs.restore()`. */
export interface Restored {
  id: number;
  url: string;
  mode: "wait" | "submit";
  outcome: Promise<Outcome>;
}

/** A finished job in `jobs.history()`; times in milliseconds (`Date.now()`). */
export interface HistoryEntry {
  id: number;
  url: string;
  outcome: Outcome["outcome"];
  ok: boolean;
  summary: string;
  jobId?: string | null;
  startedAt: number;
  finishedAt: number;
  durationMs: number;
}

/** What `jobs.stats()` returns, over the kept history. */
export interface HistoryStats {
  count: number;
  succeeded: number;
  failed: number;
  successRate: number | null;
  averageCompletionMs: number | null;
}

/** Code generation results: `{graphId: {nodeId: [code, ...]}}`, newest version last. */
export type CodegenResults = { [graphId: string]: { [nodeId: string]: string[] } };
"#;
