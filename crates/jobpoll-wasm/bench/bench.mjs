// Memory per waiting job and main-thread time per poll of the browser package,
// under Node and in headless Chromium, against the reference server. Run by
// bench/run.sh, which builds the package and the server:
//
//   node bench.mjs --jobpoll BIN --pkg DIR [--n 1000,10000] [--chromium BIN]
//
// Prints one JSON object a measurement. These are measurements, not tests: no
// figure is checked.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import inspector from "node:inspector";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { growth, sleep, startWaiting, warmUp } from "./workload.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

/** Starts `jobpoll serve` on a free loopback port; its base URL and process. */
async function startServer(bin) {
  const server = spawn(bin, ["serve", "--listen", "127.0.0.1:0"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  const base = await new Promise((resolve, reject) => {
    server.stderr.on("data", (chunk) => {
      log += chunk;
      const found = /listening on (http\S+)/.exec(log);
      if (found) resolve(found[1]);
    });
    server.on("exit", (code) => reject(new Error(`the server stopped (${code}): ${log}`)));
  });
  return { base, server };
}

/** The package loaded in this process: `Jobs` and the wasm memory. */
async function loadPackage(pkg) {
  // The web build is an ES module; a copy named .mjs loads in Node as one. It
  // sits beside the original, which imports its snippets by relative paths.
  const glue = path.join(pkg, `jobpoll_wasm_${process.pid}.mjs`);
  copyFileSync(path.join(pkg, "jobpoll_wasm.js"), glue);
  const module = await import(pathToFileURL(glue).href);
  rmSync(glue);
  const exports = module.initSync({ module: readFileSync(path.join(pkg, "jobpoll_wasm_bg.wasm")) });
  return { Jobs: module.Jobs, memory: exports.memory };
}

/** Node: memory of `n` waiting jobs (run in a fresh process per `n`). */
async function nodeMemory(pkg, base, n) {
  const { Jobs, memory } = await loadPackage(pkg);
  const measure = () => {
    globalThis.gc();
    return { wasm: memory.buffer.byteLength, js: process.memoryUsage().heapUsed };
  };
  await warmUp(Jobs, base);
  const before = measure();
  const held = await startWaiting(Jobs, base, n, { intervalMs: 600_000, durationMs: 3_600_000 });
  await sleep(500);
  const after = measure();
  const result = { runtime: `node ${process.version}`, ...growth(before, after, n) };
  held.jobs.stopAll();
  return result;
}

/**
 * Node: main-thread time in the driver per poll. `n` jobs poll every
 * `intervalMs`; for `seconds`, V8's sampling profiler (100 µs) runs, and a
 * sample counts when any frame of its stack is the package's (its wasm or its
 * JavaScript glue): timer callbacks, the handling of fetch's answers (reading
 * the body, the core's work, the outputs), and the synchronous part of the
 * `fetch` calls it makes. Node's own HTTP work after `fetch` returns is not
 * counted; the whole process's CPU time per poll is given beside it.
 */
async function nodeTimePerPoll(pkg, base, n, intervalMs, seconds) {
  const { Jobs } = await loadPackage(pkg);
  const held = await startWaiting(Jobs, base, n, { intervalMs, durationMs: 3_600_000 });
  await sleep(2 * intervalMs);
  const session = new inspector.Session();
  session.connect();
  const post = (method, params) =>
    new Promise((resolve, reject) =>
      session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
    );
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: 100 });
  const requestsBefore = held.jobs.metrics().totals.requests;
  const cpuBefore = process.cpuUsage();
  await post("Profiler.start");
  await sleep(seconds * 1000);
  const { profile } = await post("Profiler.stop");
  const cpu = process.cpuUsage(cpuBefore);
  const polls = held.jobs.metrics().totals.requests - requestsBefore;
  held.jobs.stopAll();
  return {
    runtime: `node ${process.version}`,
    jobs: n,
    interval_ms: intervalMs,
    seconds,
    ...attribute(profile, polls),
    process_cpu_us_per_poll: +((cpu.user + cpu.system) / polls).toFixed(1),
  };
}

/**
 * The time per poll a V8 CPU profile spent in the package: a sample counts when
 * a frame of its stack is the package's wasm or JavaScript (the glue and its
 * snippets); it is split by the sample's own frame into the wasm, the
 * JavaScript, and what they call (fetch,
 * Headers, the body's stream, Promise machinery).
 */
function attribute(profile, polls) {
  const parent = new Map();
  const byId = new Map();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const kind = (id) => {
    const { url } = byId.get(id).callFrame;
    // Node names a wasm frame wasm://…, Chromium by the module's URL.
    if (url.startsWith("wasm://") || url.endsWith(".wasm")) return "wasm";
    // The glue, and the package's own JavaScript snippets beside it (the
    // request function, whose promise callbacks run with no frame of ours
    // below them).
    return url.includes("/jobpoll_wasm") || url.includes("/snippets/jobpoll-wasm-") ? "glue" : "called";
  };
  const ours = new Map();
  const isOurs = (id) => {
    if (!ours.has(id)) {
      ours.set(id, kind(id) !== "called" || (parent.has(id) && isOurs(parent.get(id))));
    }
    return ours.get(id);
  };
  const split = { wasm: 0, glue: 0, called: 0 };
  profile.samples.forEach((id, index) => {
    if (isOurs(id)) split[kind(id)] += profile.timeDeltas[index] ?? 0;
  });
  const perPoll = (micros) => +(micros / polls).toFixed(1);
  return {
    polls,
    driver_us_per_poll: perPoll(split.wasm + split.glue + split.called),
    of_which_wasm_us: perPoll(split.wasm),
    of_which_glue_us: perPoll(split.glue),
    of_which_called_us: perPoll(split.called),
  };
}

/** Serves the page and the package, and passes /api/ on to the server. */
function pageServer(pkg, base, results) {
  const types = { ".html": "text/html", ".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm" };
  const files = {
    "/": path.join(here, "page.html"),
    "/workload.mjs": path.join(here, "workload.mjs"),
    "/pkg/jobpoll_wasm.js": path.join(pkg, "jobpoll_wasm.js"),
    "/pkg/jobpoll_wasm_bg.wasm": path.join(pkg, "jobpoll_wasm_bg.wasm"),
  };
  const upstream = new URL(base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  return http.createServer((request, response) => {
    const url = new URL(request.url, "http://page");
    // The package's JavaScript snippets, imported by the glue.
    const snippet = url.pathname.startsWith("/pkg/snippets/") && path.join(pkg, path.normalize(url.pathname.slice(5)));
    if (snippet && snippet.startsWith(path.join(pkg, "snippets")) && existsSync(snippet)) {
      response.writeHead(200, { "content-type": "text/javascript" });
      response.end(readFileSync(snippet));
    } else if (url.pathname.startsWith("/api/")) {
      const forward = http.request(
        { host: upstream.hostname, port: upstream.port, path: request.url, method: request.method, headers: request.headers, agent },
        (answer) => {
          response.writeHead(answer.statusCode, answer.headers);
          answer.pipe(response);
        },
      );
      forward.on("error", () => response.destroy());
      request.pipe(forward);
    } else if (url.pathname === "/result" && request.method === "POST") {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        response.end();
        results(JSON.parse(body));
      });
    } else if (files[url.pathname]) {
      response.writeHead(200, { "content-type": types[path.extname(files[url.pathname])] ?? "text/html" });
      response.end(readFileSync(files[url.pathname]));
    } else {
      response.writeHead(404);
      response.end();
    }
  });
}

/** Sends DevTools protocol commands to `browser` over its pipe (fds 3 and 4). */
function devtools(browser) {
  let next = 1;
  let buffer = "";
  const waiting = new Map();
  browser.stdio[4].on("data", (chunk) => {
    buffer += chunk;
    for (let end = buffer.indexOf("\0"); end >= 0; end = buffer.indexOf("\0")) {
      const message = JSON.parse(buffer.slice(0, end));
      buffer = buffer.slice(end + 1);
      const caller = waiting.get(message.id);
      if (!caller) continue;
      waiting.delete(message.id);
      if (message.error) caller.reject(new Error(message.error.message));
      else caller.resolve(message.result);
    }
  });
  return (method, params = {}, sessionId = undefined) =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      browser.stdio[3].write(`${JSON.stringify({ id, method, params, sessionId })}\0`);
    });
}

/**
 * Opens the page with `query` in a fresh headless Chromium and calls
 * `run({posted, send})`: `posted` resolves with what the page posts to
 * /result, `send` speaks the DevTools protocol.
 */
async function inChromium(chromium, pkg, base, query, run) {
  let done;
  const posted = new Promise((resolve) => (done = resolve));
  const server = pageServer(pkg, base, done);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const page = `http://127.0.0.1:${server.address().port}/?${query}`;
  const profileDir = path.join(tmpdir(), `jobpoll-chromium-${process.pid}-${Date.now()}`);
  const browser = spawn(
    chromium,
    [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--enable-precise-memory-info",
      "--js-flags=--expose-gc",
      "--remote-debugging-pipe",
      `--user-data-dir=${profileDir}`,
      page,
    ],
    { stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"] },
  );
  const timeout = setTimeout(() => done({ error: "no answer from the page in 5 minutes" }), 300_000);
  try {
    return await run({ posted, send: devtools(browser) });
  } finally {
    clearTimeout(timeout);
    browser.kill();
    server.close();
    server.closeAllConnections();
  }
}

/** Chromium: memory of `n` waiting jobs. */
function chromiumMemory(chromium, pkg, base, n) {
  return inChromium(chromium, pkg, base, `mode=memory&n=${n}`, ({ posted }) => posted);
}

/** Chromium: main-thread time per poll, measured as in Node (`attribute`). */
function chromiumTimePerPoll(chromium, pkg, base, n, intervalMs, seconds) {
  const query = `mode=poll&n=${n}&interval=${intervalMs}`;
  return inChromium(chromium, pkg, base, query, async ({ posted, send }) => {
    const ready = await posted;
    if (ready.error) return ready;
    const { targetInfos } = await send("Target.getTargets");
    const target = targetInfos.find((info) => info.type === "page");
    const { sessionId } = await send("Target.attachToTarget", { targetId: target.targetId, flatten: true });
    const requests = async () =>
      (await send("Runtime.evaluate", { expression: "window.jobpollBench.jobs.metrics().totals.requests", returnByValue: true }, sessionId)).result.value;
    await send("Profiler.enable", {}, sessionId);
    await send("Profiler.setSamplingInterval", { interval: 100 }, sessionId);
    const before = await requests();
    await send("Profiler.start", {}, sessionId);
    await sleep(seconds * 1000);
    const { profile } = await send("Profiler.stop", {}, sessionId);
    const polls = (await requests()) - before;
    return { browser: ready.browser, jobs: n, interval_ms: intervalMs, seconds, ...attribute(profile, polls) };
  });
}

/** Runs this script again in a fresh Node with `args`; its JSON output. */
function child(args) {
  return new Promise((resolve, reject) => {
    const run = spawn(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    run.stdout.on("data", (chunk) => (out += chunk));
    run.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child ${args.join(" ")}: ${code}`))));
  });
}

async function main() {
  const mode = option("child");
  const pkg = option("pkg");
  if (mode) {
    const base = option("base");
    const result =
      mode === "memory"
        ? await nodeMemory(pkg, base, Number(option("n")))
        : await nodeTimePerPoll(pkg, base, Number(option("n")), Number(option("interval")), Number(option("seconds")));
    process.stdout.write(JSON.stringify(result));
    process.exit(0);
  }
  const sizes = option("n", "1000,10000").split(",").map(Number);
  const chromium = option("chromium", "chromium");
  const { base, server } = await startServer(option("jobpoll"));
  try {
    for (const n of sizes) {
      console.log(JSON.stringify({ what: "memory per waiting job", ...(await child(["--child", "memory", "--pkg", pkg, "--base", base, "--n", `${n}`])) }));
    }
    for (const n of sizes) {
      console.log(JSON.stringify({ what: "memory per waiting job", runtime: "chromium (headless)", ...(await chromiumMemory(chromium, pkg, base, n)) }));
    }
    const perPoll = ["--child", "time", "--pkg", pkg, "--base", base, "--n", "500", "--interval", "1000", "--seconds", "10"];
    console.log(JSON.stringify({ what: "main-thread time per poll", ...(await child(perPoll)) }));
    const inPage = await chromiumTimePerPoll(chromium, pkg, base, 500, 1000, 10);
    console.log(JSON.stringify({ what: "main-thread time per poll", runtime: "chromium (headless)", ...inPage }));
  } finally {
    server.kill();
  }
}

main().catch((error) => {
  console.error(`bench.mjs: ${error.stack ?? error}`);
  process.exit(1);
});
