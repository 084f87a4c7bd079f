// A strict TypeScript use of the package: type-checked with `tsc --strict`,
// then run under Node (no server needed) by check-types.sh.
import {
  Jobs,
  JobpollError,
  OptionsError,
  ProfileError,
  type HistoryStats,
  type JobEvent,
  type Listed,
  type Metrics,
  type Outcome,
  type WaitOptions,
} from "./pkg/jobpoll_wasm.js";

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`failed: ${what}`);
}

function describe(outcome: Outcome): string {
  switch (outcome.outcome) {
    case "succeeded":
      return `done: ${JSON.stringify(outcome.result)}`;
    case "failed":
      return `failed: ${outcome.message}`;
    case "cancelled":
      return outcome.by.by === "client"
        ? `cancelled, server confirmed: ${outcome.by.server_confirmed}`
        : "cancelled by the server";
    case "gave_up":
      return `gave up: ${outcome.last_error.error}`;
    case "timed_out":
      return `timed out: ${outcome.reason.limit}`;
    case "unauthorized":
    case "rejected":
      return `${outcome.status}: ${outcome.message}`;
    case "not_found":
      return outcome.summary;
  }
}

function line(event: JobEvent): string {
  switch (event.event) {
    case "progress":
      return `#${event.id} ${event.status} ${event.percentage ?? "?"}%`;
    case "retrying":
      return `#${event.id} retrying in ${event.delay / 1000} ms`;
    default:
      return event.summary;
  }
}

async function main(): Promise<void> {
  const seen: string[] = [];
  const warnings: string[] = [];
  const jobs = new Jobs({
    onEvent: (event) =>
      event.event === "storage_warning" ? warnings.push(event.message) : seen.push(line(event)),
    pauseWhenHidden: false,
    storage: null,
  });

  // A bad option rejects with an OptionsError naming it.
  try {
    await jobs.wait("http://127.0.0.1:9/api/v1/jobs/x", { interval: -5 });
    check(false, "a negative interval is refused");
  } catch (error) {
    check(error instanceof OptionsError, "OptionsError");
    check(error instanceof JobpollError && error instanceof Error, "its base classes");
    if (error instanceof OptionsError) check(error.option === "interval", "option names it");
  }

  // A misspelt key in a profile object: a ProfileError with the nearest key.
  try {
    await jobs.wait("http://127.0.0.1:9/api/v1/jobs/x", { profile: { completoin: {} } });
    check(false, "a misspelt profile is refused");
  } catch (error) {
    check(error instanceof ProfileError, "ProfileError");
    if (error instanceof ProfileError) {
      check(error.option === "profile", "option is profile");
      check(error.message.length > 0, error.message);
    }
  }

  // Nothing listens on port 9: the wait gives up; its events end with it.
  const options: WaitOptions = {
    interval: 20,
    maxErrors: 2,
    headers: [["X-Trace", "1"]],
  };
  const waiting = jobs.wait("http://127.0.0.1:9/api/v1/jobs/x", options);
  check(typeof waiting.id === "number", "the Promise has an id");
  const listed: Listed[] = jobs.list();
  check(listed.length === 1 && listed[0].id === waiting.id, "list shows the id");
  const kinds: string[] = [];
  for await (const event of jobs.events(waiting.id)) kinds.push(event.event);
  const outcome = await waiting;
  check(outcome.outcome === "gave_up", describe(outcome));
  check(kinds.includes("retrying"), `events: ${kinds.join(", ")}`);
  check(seen.length === kinds.length, "onEvent saw the same events");

  // Leaving a loop over every wait's events unsubscribes it.
  const again = jobs.wait("http://127.0.0.1:9/api/v1/jobs/y", options);
  let first: JobEvent | undefined;
  for await (const event of jobs.events()) {
    first = event;
    break;
  }
  check(first !== undefined && first.id === again.id, "the first event is the new wait's");
  check((await again).ok === false, "the second wait gives up too");

  const metrics: Metrics = jobs.metrics();
  check(metrics.paused_by.length === 0 && !metrics.paused, "not paused");
  check(jobs.stop(waiting.id ?? 0) === false, "an ended wait cannot be stopped");
  const stats: HistoryStats = jobs.stats();
  check(stats.count === 2 && stats.succeeded === 0, `stats: ${JSON.stringify(stats)}`);
  check(jobs.history()[0].outcome === "gave_up", "history, newest first");
  check(Object.keys(jobs.results()).length === 0, "no codegen results");
  check(jobs.restore().length === 0, "nothing saved to restore");
  check(warnings.length === 0, `warnings: ${warnings.join("; ")}`);
  jobs.free();
  console.log(`example.ts: ${describe(outcome)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

declare const process: { exitCode?: number };
