// The reference server's page: demo jobs waited on by the browser driver.
//
// Written against the driver's JavaScript API (`new Jobs`, `submit`, `wait`,
// `list`, `metrics`, `pause`, `resume`, `restore`, `history`, `stop`).
import init, { Jobs } from "./pkg/jobpoll_wasm.js";

const SECOND = 1_000_000; // the driver's times are in microseconds

/** The demo jobs: a plan the reference server follows, and how to show it. */
const DEMOS = [
  {
    kind: "succeed",
    label: "Render report",
    note: "succeeds after 6 s",
    path: "/api/v1/render-job",
    plan: { duration: 6 * SECOND, eta_sigma: 0.1 },
  },
  {
    kind: "fail",
    label: "Export archive",
    note: "fails after 4 s",
    path: "/api/v1/export-job",
    plan: { duration: 4 * SECOND, ending: { ending: "fail", message: "the archive disk is full" } },
  },
  {
    kind: "slow",
    label: "Train model",
    note: "runs 2 min: cancel it",
    path: "/api/v1/train-job",
    plan: { duration: 120 * SECOND, eta_sigma: 0.2 },
  },
  {
    kind: "throttled",
    label: "Import contacts",
    note: "429 for 2 s, then succeeds",
    path: "/api/v1/import-job",
    plan: {
      duration: 5 * SECOND,
      faults: [{ from: 0, until: 2 * SECOND, fault: { fault: "status", status: 429, retry_after: 2 } }],
    },
  },
];

const PROFILE = "jobs";
/** What the page remembers of its jobs across a reload (label, status URL). */
const MEMORY_KEY = "jobpoll-page-jobs";

const rows = new Map(); // driver id -> row state
const $ = (selector) => document.querySelector(selector);

let jobs;

main().catch((error) => {
  const box = $("#error");
  box.hidden = false;
  box.textContent = `The page could not start: ${error && error.message ? error.message : error}`;
  document.body.dataset.ready = "error";
});

async function main() {
  await init();
  jobs = new Jobs({ onEvent });
  // For tests and the curious: the driver this page runs.
  window.jobpollPage = { jobs, rows };

  const demos = $("#demos");
  for (const demo of DEMOS) {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.demo = demo.kind;
    button.innerHTML = `${escape(demo.label)}<small>${escape(demo.note)}</small>`;
    button.addEventListener("click", () => start(demo));
    demos.append(button);
  }

  const pause = $("#pause");
  pause.disabled = false;
  pause.addEventListener("click", () => {
    if (jobs.metrics().paused) jobs.resume();
    else jobs.pause();
    refresh();
  });

  document.body.dataset.resume = resumeAfterReload();
  setInterval(refresh, 500);
  refresh();
  document.body.dataset.ready = "true";
}

/** Submits a demo job and follows it. */
function start(demo) {
  const controller = new AbortController();
  const promise = jobs.submit(new URL(demo.path, location.origin).href, {
    body: { plan: demo.plan },
    profile: PROFILE,
    preset: "fast",
    signal: controller.signal,
  });
  // A refused submit (no id) still gets a row of its own for its error.
  const id = promise.id !== undefined ? promise.id : `local-${++localIds}`;
  const row = ensureRow(id);
  Object.assign(row, { label: demo.label, kind: demo.kind, profile: PROFILE, controller });
  remember(row);
  render(row);
  follow(row, promise);
}

let localIds = 0;

/** Shows the outcome `promise` resolves with on `row`. */
function follow(row, promise) {
  promise.then(
    (outcome) => {
      row.outcome = outcome;
      row.status = outcome.outcome;
      if (outcome.stats && outcome.stats.attempts !== undefined) row.attempt = outcome.stats.attempts;
      forget(row);
      render(row);
    },
    (error) => {
      row.outcome = { outcome: "rejected", ok: false, summary: String(error && error.message ? error.message : error) };
      row.status = "rejected";
      forget(row);
      render(row);
    },
  );
}

/** Every event of every wait: the rows' status, progress, ETA and polls. */
function onEvent(event) {
  const row = ensureRow(event.id);
  switch (event.event) {
    case "submitted":
      row.statusUrl = event.status_url;
      row.jobId = event.job_id;
      remember(row);
      break;
    case "status_changed":
      row.status = event.to;
      break;
    case "progress":
      row.status = event.status;
      row.attempt = event.attempt;
      if (typeof event.percentage === "number") row.percentage = event.percentage;
      if (typeof event.eta === "number") {
        row.eta = event.eta;
        row.etaAt = performance.now();
      }
      row.note = event.step || "";
      break;
    case "retrying": {
      const cause = event.cause || {};
      const why = cause.status ? `HTTP ${cause.status}` : cause.error || "error";
      row.note = `${why}: next try in ${duration(event.delay / 1000)}`;
      break;
    }
    case "cancel_requested":
      row.note = "cancel requested";
      break;
    default:
      break;
  }
  render(row);
}

/**
 * Picks up the jobs of the page's last visit with the driver's `restore`,
 * which resumes them from localStorage where they were. Says `restore`.
 */
function resumeAfterReload() {
  const memory = recall();
  showHistory();
  // `[{id, url, mode, outcome}]`, `outcome` a Promise as `wait` returns.
  for (const item of jobs.restore()) {
    const row = ensureRow(item.id);
    Object.assign(row, pastOf(memory, row, item.url));
    render(row);
    follow(row, item.outcome);
  }
  for (const listed of jobs.list()) {
    const row = ensureRow(listed.id);
    Object.assign(row, pastOf(memory, row, listed.url));
    if (listed.status && !row.outcome) row.status = listed.status;
    render(row);
  }
  // The ids are this visit's now.
  localStorage.removeItem(MEMORY_KEY);
  for (const row of rows.values()) remember(row);
  return "restore";
}

/**
 * The jobs that ended before this visit, when the driver keeps a history
 * (`{id, url, outcome, ok, summary, jobId}`, newest first): the latest ten,
 * below the running ones.
 */
function showHistory() {
  if (typeof jobs.history !== "function") return;
  const finished = Array.isArray(jobs.history()) ? jobs.history().slice(0, 10) : [];
  for (const past of finished.reverse()) {
    if (past.id === undefined || rows.has(past.id)) continue;
    const demo = DEMOS.find((demo) => past.url && new URL(past.url, location.origin).pathname === demo.path);
    const row = ensureRow(past.id);
    Object.assign(row, {
      label: demo ? demo.label : "Job",
      kind: demo ? demo.kind : "",
      profile: demo ? PROFILE : "",
      jobId: past.jobId,
      status: past.outcome,
      attempt: null, // not kept in the history
      outcome: { outcome: past.outcome, ok: past.ok, summary: past.summary },
    });
    render(row);
  }
}

/** What the page remembered of a job, by its id or its status URL. */
function pastOf(memory, row, url) {
  const byUrl = Object.values(memory).find((job) => url && job.statusUrl === url);
  return byUrl || memory[row.id] || {};
}

function recall() {
  try {
    return JSON.parse(localStorage.getItem(MEMORY_KEY) || "{}") || {};
  } catch {
    return {};
  }
}

function remember(row) {
  if (row.outcome) return;
  const memory = recall();
  memory[row.id] = { label: row.label, kind: row.kind, profile: row.profile, statusUrl: row.statusUrl, jobId: row.jobId };
  try {
    localStorage.setItem(MEMORY_KEY, JSON.stringify(memory));
  } catch {
    // No storage (private mode, quota): the page just forgets across reloads.
  }
}

function forget(row) {
  const memory = recall();
  delete memory[row.id];
  try {
    localStorage.setItem(MEMORY_KEY, JSON.stringify(memory));
  } catch {
    // As above.
  }
}

/** Stops a running wait: the driver asks the server to cancel the job. */
function cancel(row) {
  if (row.controller) row.controller.abort();
  else if (typeof jobs.stop === "function") jobs.stop(row.id);
  row.note = "cancelling…";
  render(row);
}

function ensureRow(id) {
  let row = rows.get(id);
  if (row) return row;
  row = { id, label: "Job", profile: "", status: "queued", attempt: 0, note: "" };
  row.element = document.createElement("tr");
  row.element.dataset.id = String(id);
  rows.set(id, row);
  $("#jobs tbody").prepend(row.element);
  $("#empty").hidden = true;
  return row;
}

/** Redraws one row. */
function render(row) {
  const outcome = row.outcome;
  const state = outcome ? outcome.outcome : "running";
  const tr = row.element;
  tr.dataset.state = state;
  tr.dataset.kind = row.kind || "";
  if (row.jobId) tr.dataset.jobId = row.jobId;

  const pill = outcome ? state : "running";
  const statusText = outcome ? state.replace("_", " ") : row.status || "queued";
  const percentage = outcome && outcome.ok ? 100 : row.percentage;
  const barClass = outcome ? (outcome.ok ? "done" : "bad") : percentage === undefined ? "unknown" : "";
  const percentText = percentage === undefined ? "" : `${Math.round(percentage)} %`;

  tr.innerHTML = `
    <td><div class="job-name">${escape(row.label)}</div>
        <div class="job-id">#${escape(row.id)}${row.jobId ? ` · ${escape(row.jobId)}` : ""}</div></td>
    <td>${escape(row.profile || "—")}</td>
    <td><span class="pill ${pill}">${escape(statusText)}</span>
        ${row.note && !outcome ? `<div class="note">${escape(row.note)}</div>` : ""}</td>
    <td><div class="bar ${barClass}"><div style="width:${percentage === undefined ? (outcome ? 0 : 30) : Math.min(100, percentage)}%"></div></div>
        <div class="percent">${percentText}</div></td>
    <td class="eta">${outcome ? "—" : escape(etaText(row))}</td>
    <td class="attempts">${row.attempt ?? "—"}</td>
    <td class="result"></td>`;
  const cell = tr.querySelector(".result");
  if (!outcome && (row.controller || typeof jobs.stop === "function")) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "cancel";
    button.textContent = "Cancel";
    button.addEventListener("click", () => cancel(row));
    cell.append(button);
  } else if (outcome) {
    cell.innerHTML = resultHtml(row, outcome);
  }
}

function resultHtml(row, outcome) {
  const status = row.statusUrl ? ` · <a href="${escape(row.statusUrl)}" target="_blank" rel="noopener">status</a>` : "";
  if (outcome.outcome === "succeeded") {
    const result = outcome.result ?? outcome.results;
    const link = result && typeof result.url === "string"
      ? `<a href="${escape(result.url)}" target="_blank" rel="noopener">result</a>`
      : "done";
    const json = result === undefined || result === null
      ? ""
      : `<details><summary>inline</summary><pre>${escape(JSON.stringify(result, null, 2))}</pre></details>`;
    return `${link}${status}${json}`;
  }
  if (outcome.outcome === "cancelled") {
    const confirmed = outcome.by && outcome.by.server_confirmed;
    return `<span class="message">cancelled${confirmed ? ", the server confirmed" : ""}</span>${status}`;
  }
  const message = outcome.message || outcome.summary || outcome.outcome;
  return `<span class="message" title="${escape(outcome.summary || "")}">${escape(message)}</span>${status}`;
}

function etaText(row) {
  if (row.eta === undefined) return "—";
  const left = row.eta / 1000 - (performance.now() - row.etaAt);
  return duration(Math.max(0, left));
}

function duration(millis) {
  const seconds = Math.round(millis / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${String(seconds % 60).padStart(2, "0")} s`;
}

/** The polling state and counts, and the ETAs counting down. */
function refresh() {
  const metrics = jobs.metrics();
  const state = $("#polling-state");
  state.textContent = metrics.paused ? "paused" : "polling";
  state.className = `pill ${metrics.paused ? "paused" : "live"}`;
  $("#pause").textContent = metrics.paused ? "Resume polling" : "Pause polling";
  document.body.dataset.paused = String(metrics.paused);
  const totals = metrics.totals || {};
  $("#metrics").textContent =
    `${metrics.waiting} waiting · ${metrics.in_flight} in flight · ${totals.requests ?? 0} requests so far`;
  for (const row of rows.values()) {
    if (!row.outcome && row.eta !== undefined) {
      const eta = row.element.querySelector(".eta");
      if (eta) eta.textContent = etaText(row);
    }
  }
}

function escape(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
