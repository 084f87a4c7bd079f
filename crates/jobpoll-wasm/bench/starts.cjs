// The main-thread time of starting many waits at once with storage: N calls of
// `wait` in one synchronous loop, on a storage object backed by a Map (no
// browser's own storage cost), the fleet paused so that no request goes out.
//
//   WASM_BINDGEN_TARGET=nodejs crates/jobpoll-wasm/size.sh DIR
//   node crates/jobpoll-wasm/bench/starts.cjs DIR/jobpoll_wasm.js [N,N,...]
"use strict";
const { Jobs } = require(require("node:path").resolve(process.argv[2]));
const counts = (process.argv[3] || "1000,4000,10000").split(",").map(Number);

for (const n of counts) {
  const map = new Map();
  const storage = {
    getItem: (key) => (map.has(key) ? map.get(key) : null),
    setItem: (key, value) => map.set(key, String(value)),
    removeItem: (key) => map.delete(key),
  };
  const jobs = new Jobs({ storage, storageKey: `starts${n}`, pauseWhenHidden: false });
  jobs.pause();
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    // A closed port: nothing is sent while paused, and nothing answers later.
    jobs.wait(`http://127.0.0.1:9/jobs/${i}`, { interval: 600000 }).catch(() => {});
  }
  const took = performance.now() - start;
  const index = map.get(`starts${n}/v1/jobs`) || "";
  console.log(JSON.stringify({
    what: "starting waits with storage",
    waits: n,
    ms: Math.round(took),
    us_per_wait: Math.round((took / n) * 1000),
    index_bytes: index.length,
  }));
  jobs.stopAll();
  jobs.free();
}
process.exit(0);
