// Records a job with the Node build of the package (`wasm-bindgen --target
// nodejs`) against the reference server, and writes its trace for
// `jobpoll-sim replay`.
//
//   node record-trace.cjs PACKAGE_DIR SERVER_URL TRACE_FILE
//
// The job: submitted, answered 429 with `Retry-After: 1` for its first 0.8 s,
// running with progress for 1.5 s, then succeeding; sent with a bearer token that
// the trace must not hold.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

async function main() {
  const [pkg, server, out] = process.argv.slice(2);
  if (!pkg || !server || !out) {
    throw new Error("usage: node record-trace.cjs PACKAGE_DIR SERVER_URL TRACE_FILE");
  }
  const { Jobs } = require(path.resolve(pkg, "jobpoll_wasm.js"));
  const token = "s3cret-token-from-node";
  const jobs = new Jobs({ seed: 1 });
  const outcome = await jobs.submit(`${server}/api/v1/demo-job`, {
    body: {
      plan: {
        duration: 1500000,
        faults: [{ from: 0, until: 800000, fault: { fault: "status", status: 429, retry_after: 1 } }],
      },
    },
    interval: 100,
    headers: { Authorization: `Bearer ${token}` },
    record: true,
  });
  if (outcome.outcome !== "succeeded") {
    throw new Error(`the job did not succeed: ${outcome.summary}`);
  }
  if (typeof outcome.trace !== "string" || outcome.trace.length === 0) {
    throw new Error("the outcome has no trace");
  }
  if (outcome.trace.includes(token)) {
    throw new Error("the trace holds the token");
  }
  for (const needed of ['"status":429', '"event":"progress"']) {
    if (!outcome.trace.includes(needed)) {
      throw new Error(`the trace lacks ${needed}`);
    }
  }
  fs.writeFileSync(out, outcome.trace);
  console.log(`recorded ${outcome.trace.split("\n").length - 1} records to ${out}`);
}

main().catch((error) => {
  console.error(`record-trace.cjs: ${error.message}`);
  process.exit(1);
});
