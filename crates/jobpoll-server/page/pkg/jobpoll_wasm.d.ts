/* tslint:disable */
/* eslint-disable */

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



/**
 * Many jobs waited on together, with one timer and shared polls.
 *
 * ```js
 * const jobs = new Jobs({ onEvent: (event) => console.log(event.summary) });
 * const outcome = await jobs.wait(statusUrl, { preset: "fast" });
 * if (outcome.ok) console.log(outcome.result);
 * else console.error(outcome.summary);
 * ```
 *
 * Options of the constructor, all optional: `onEvent` (called with every event
 * of every job), `maxConcurrent` (requests in flight at once, default 256),
 * `maxConcurrentPerOrigin` (default 32), `seed` (root of the jitter; random by
 * default, so that many pages do not poll in step), `pauseWhenHidden` (default
 * `true`: hold requests back while the page is hidden, resume as soon as it is
 * visible or the user acts on it), `storage` (where running
 * jobs, the history and the results are saved: `localStorage` by default,
 * `null` for memory only, or any object with `getItem`, `setItem` and
 * `removeItem`), `storageKey` (the prefix of the saved keys, default
 * `jobpoll`).
 */
export class Jobs {
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Forgets the kept code generation results: all of them, or `graphId`'s.
     */
    clearResults(graph_id_value?: string | null): void;
    /**
     * The events of every wait, or of the wait `id`, as an async iterator:
     * `for await (const event of jobs.events(id)) ...`. The iterator of one
     * wait ends after its outcome (at once if no wait runs under `id`); the
     * iterator of every wait runs until the loop is left.
     *
     * Events not read yet are kept, at most `options.limit` of them (default
     * 1024): past it the oldest is dropped, the iterator's `dropped` counts it
     * and the next event read carries `dropped`, the number lost just before
     * it. Leaving the loop (`break`, `return()`) unsubscribes.
     */
    events(id?: number | null, options?: EventsOptions | null): EventStream;
    /**
     * The finished jobs, newest first (at most 100, kept across reloads):
     * `{id, url, outcome, ok, summary, jobId, startedAt, finishedAt,
     * durationMs}`, times in milliseconds (`Date.now()`).
     */
    history(): HistoryEntry[];
    /**
     * The waits still running, oldest first: `{id, url, mode, status}`.
     */
    list(): Listed[];
    /**
     * Counts over the life of these jobs and what they do now; `paused_by`
     * says why requests are held back (`"user"`, `"hidden"`).
     */
    metrics(): Metrics;
    /**
     * A new set of jobs; see the type's documentation for `options`. Throws
     * an `OptionsError` naming the option that cannot work.
     */
    constructor(options?: JobsOptions | null);
    /**
     * Holds every request back; the requests that fall due wait for
     * [`Jobs::resume`]. A page becoming visible does not undo it.
     */
    pause(): void;
    /**
     * Resumes the jobs an earlier page saved under this `storageKey` (before a
     * reload), where they were: the same ids, URLs and state, the time the page
     * was away counted against their `timeout`. A create request that may have
     * reached the server is never sent again (the job then ends as `gave_up`,
     * `submit_uncertain`, unless it carried an `Idempotency-Key`).
     *
     * Returns `[{id, url, mode, outcome}]`, `outcome` a Promise as `wait`
     * returns. A saved job that cannot be resumed (bad data, another format) is
     * dropped with a `storage_warning` event.
     *
     * Several tabs may share one `storageKey`: a job runs in one of them. This
     * call takes the jobs this tab saved (before a reload), and the jobs of a
     * tab that is gone: closed (`pagehide`) or freed, or whose lease
     * (refreshed while it runs them) is older than 90 seconds. The jobs of a live tab stay saved; a later
     * call takes them once that tab is gone. A second call right away resumes
     * nothing more.
     */
    restore(): Restored[];
    /**
     * The code generation results kept across reloads, as
     * `{graphId: {nodeId: [code, ...]}}` with the newest version of each node's
     * code last (at most 10 versions a node, 100 graphs); with `graphId`, the
     * same shape with that graph only.
     */
    results(graph_id_value?: string | null): CodegenResults;
    /**
     * Lets the requests held back by [`Jobs::pause`] go (unless the page is
     * hidden and `pauseWhenHidden` holds them).
     */
    resume(): void;
    /**
     * Counts over the kept history: `{count, succeeded, failed, successRate,
     * averageCompletionMs}` (the last two `null` when it is empty).
     */
    stats(): HistoryStats;
    /**
     * Stops every wait; each resolves as cancelled.
     */
    stopAll(): void;
    /**
     * Stops the wait `list()` shows as `id` (the `id` of the Promise `wait`
     * and `submit` return): it resolves as cancelled, and the server is asked
     * to cancel the job when nobody else waits on it, as with an
     * `AbortSignal`. False when no wait runs under that id (it ended, or never
     * was); throws an `OptionsError` when `id` is not a whole number.
     */
    stop(id: number): boolean;
    /**
     * Creates a job (`POST url` with `body`, or `method`) and waits on it; the
     * options of [`Jobs::wait`], plus `method` and `body` (a string, or a value
     * sent as JSON).
     */
    submit(url: string, options?: SubmitOptions | null): WaitPromise;
    /**
     * Waits on the job whose status is at `url`; a Promise of its outcome,
     * whose `id` is the number `list()`, `stop(id)` and `events(id)` use.
     * `url` is read as `fetch` reads it: relative to the page's address, and
     * with an international host name in its ASCII form.
     *
     * Options, all optional: `profile` (a built-in name: `jobs`, `codegen`,
     * `file-tasks`, `turn`, `google`, `azure`; or a profile object in the JSON
     * form of `docs/profiles.md`), `preset`, `interval`, `timeout`,
     * `requestTimeout` (in ms), `maxAttempts`, `maxErrors`, `maxBodyBytes`,
     * `headers` (a plain object, a `Headers`, or `[name, value]` pairs),
     * `signal` (an `AbortSignal`: aborting it stops the wait, and asks the
     * server to cancel the job when nobody else waits on it; its listener is
     * removed when the wait ends), `onEvent` (this job's events), `persist`
     * (default `true`; `false` keeps the job out of storage, so that it is not
     * restored after a reload and its headers are not saved), `record`
     * (`true`: the job runs alone, outside the fleet, and its outcome gets
     * `trace`, the JSON lines `jobpoll-sim replay` replays, without the
     * secrets of the headers sent).
     *
     * The promise resolves with every outcome, success or not: a plain object
     * with `outcome` (`succeeded`, `failed`, `cancelled`, `timed_out`,
     * `gave_up`, `unauthorized`, `rejected`, `not_found`), `ok`, `summary` (a
     * sentence a person reads) and the outcome's fields (times in
     * microseconds). It rejects only when the arguments cannot work, with an
     * `OptionsError` (a `ProfileError` for a refused profile object).
     */
    wait(url: string, options?: WaitOptions | null): WaitPromise;
}

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly __wbg_jobs_free: (a: number, b: number) => void;
    readonly jobs_clearResults: (a: number, b: number) => [number, number];
    readonly jobs_events: (a: number, b: number, c: number) => [number, number, number];
    readonly jobs_history: (a: number) => any;
    readonly jobs_list: (a: number) => any;
    readonly jobs_metrics: (a: number) => any;
    readonly jobs_new: (a: number) => [number, number, number];
    readonly jobs_pause: (a: number) => void;
    readonly jobs_restore: (a: number) => any;
    readonly jobs_results: (a: number, b: number) => [number, number, number];
    readonly jobs_resume: (a: number) => void;
    readonly jobs_stats: (a: number) => any;
    readonly jobs_stop: (a: number, b: any) => [number, number, number];
    readonly jobs_stopAll: (a: number) => void;
    readonly jobs_submit: (a: number, b: number, c: number, d: number) => any;
    readonly jobs_wait: (a: number, b: number, c: number, d: number) => any;
    readonly wasm_bindgen_8999ec673cc711d4___convert__closures_____invoke___js_sys_234d8a4c616a6cd5___Function_fn_wasm_bindgen_8999ec673cc711d4___JsValue_____wasm_bindgen_8999ec673cc711d4___sys__Undefined___js_sys_234d8a4c616a6cd5___Function_fn_wasm_bindgen_8999ec673cc711d4___JsValue_____wasm_bindgen_8999ec673cc711d4___sys__Undefined_______true_: (a: number, b: number, c: any, d: any) => void;
    readonly wasm_bindgen_8999ec673cc711d4___convert__closures_____invoke___wasm_bindgen_8999ec673cc711d4___JsValue______true_: (a: number, b: number, c: any) => void;
    readonly wasm_bindgen_8999ec673cc711d4___convert__closures_____invoke_______true_: (a: number, b: number) => void;
    readonly __wbindgen_malloc: (a: number, b: number) => number;
    readonly __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
    readonly __wbindgen_free: (a: number, b: number, c: number) => void;
    readonly __wbindgen_exn_store: (a: number) => void;
    readonly __externref_table_alloc: () => number;
    readonly __wbindgen_externrefs: WebAssembly.Table;
    readonly __wbindgen_destroy_closure: (a: number, b: number) => void;
    readonly __externref_table_dealloc: (a: number) => void;
    readonly __wbindgen_start: () => void;
}

export type SyncInitInput = BufferSource | WebAssembly.Module;

/**
 * Instantiates the given `module`, which can either be bytes or
 * a precompiled `WebAssembly.Module`.
 *
 * @param {{ module: SyncInitInput }} module - Passing `SyncInitInput` directly is deprecated.
 *
 * @returns {InitOutput}
 */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/**
 * If `module_or_path` is {RequestInfo} or {URL}, makes a request and
 * for everything else, calls `WebAssembly.instantiate` directly.
 *
 * @param {{ module_or_path: InitInput | Promise<InitInput> }} module_or_path - Passing `InitInput` directly is deprecated.
 *
 * @returns {Promise<InitOutput>}
 */
export default function __wbg_init (module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;
