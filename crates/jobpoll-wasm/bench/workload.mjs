// The measured workload, the same in Node and in a page: N jobs created on the
// reference server, each then waited on with a long interval, until every one
// is waiting between two polls.

/** Resolves after `ms` milliseconds. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Submits `n` demo jobs lasting `durationMs` to `base` and waits until all are
 * created and no request is in flight. Returns the `Jobs` and the promises of
 * the outcomes (which hold memory too, so they are kept).
 */
export async function startWaiting(Jobs, base, n, { intervalMs, durationMs }) {
  const jobs = new Jobs({ seed: 1, storage: null, pauseWhenHidden: false });
  const outcomes = [];
  const body = { plan: { duration: durationMs * 1000 } };
  for (let i = 0; i < n; i += 1) {
    outcomes.push(jobs.submit(`${base}/api/v1/demo-job`, { body, interval: intervalMs }));
  }
  // Created when every job has made its request and none is in flight.
  for (;;) {
    const metrics = jobs.metrics();
    if (metrics.totals.requests >= n && metrics.in_flight === 0) break;
    await sleep(100);
  }
  return { jobs, outcomes };
}

/**
 * Runs a few jobs first and stops them, so that what is loaded or allocated
 * once (the runtime's HTTP client, the module's first allocations) is not
 * counted as the jobs' memory.
 */
export async function warmUp(Jobs, base) {
  const held = await startWaiting(Jobs, base, 10, { intervalMs: 600_000, durationMs: 3_600_000 });
  held.jobs.stopAll();
  await Promise.all(held.outcomes);
  await sleep(500);
}

/**
 * The growth of the wasm linear memory and of the JavaScript heap from `before`
 * (both `{wasm, js}` in bytes) to `after`, in total and per job.
 */
export function growth(before, after, n) {
  const wasm = after.wasm - before.wasm;
  const js = after.js - before.js;
  return {
    n,
    wasm_bytes: wasm,
    js_bytes: js,
    per_job_wasm: Math.round(wasm / n),
    per_job_js: Math.round(js / n),
    per_job_total: Math.round((wasm + js) / n),
  };
}
