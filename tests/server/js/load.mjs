#!/usr/bin/env node
// Load test of `dimple serve` on loopback, bounded in count and time: starts a server, sends
// REQUESTS requests from CONCURRENCY clients, a MALFORMED share of them malformed (many kinds), and
// checks: no crash (the server is alive and healthy at the end, and exits cleanly on SIGTERM), every
// good request answered with a 200 and a well-formed body, every malformed one a 4xx with an OpenAI
// error body. Reports the server's peak RSS (VmHWM). Exit code 0 only when every check passed.
//
//   node tests/server/js/load.mjs [--requests 10000] [--concurrency 16] [--malformed 0.3]
//        [--time-limit 3600] [--body-limit 1048576] [--json report.json]
// DIMPLE_CLI and DIMPLE_SERVER_MODEL choose the binary and the model (see serve.mjs).
import fs from "node:fs";
import { parseArgs } from "node:util";
import { checkGood, checkMalformed, goodRequests, malformedRequests } from "./requests.mjs";
import { startServer } from "./serve.mjs";

const { values: opt } = parseArgs({ options: {
  requests: { type: "string", default: "10000" }, concurrency: { type: "string", default: "16" },
  malformed: { type: "string", default: "0.3" }, "time-limit": { type: "string", default: "3600" },
  "body-limit": { type: "string", default: String(1 << 20) }, seed: { type: "string", default: "1" },
  json: { type: "string" } } });
const total = Number(opt.requests), concurrency = Number(opt.concurrency), share = Number(opt.malformed);
const deadline = Date.now() + Number(opt["time-limit"]) * 1000, bodyLimit = Number(opt["body-limit"]);

// mulberry32: a seeded generator, so a run sends the same sequence every time.
let state = Number(opt.seed) >>> 0;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

// The body limit is set explicitly (so the test knows it, and oversized bodies stay cheap); the
// default queue (64) holds every client.
const server = await startServer({ args: ["--max-body-bytes", String(bodyLimit)] });
const good = goodRequests(), bad = malformedRequests({ bodyLimit });
const plan = Array.from({ length: total }, () => {
  const malformed = random() < share;
  const list = malformed ? bad : good;
  return { malformed, req: list[Math.floor(random() * list.length)] };
});

const tally = new Map();   // "good text 200" -> count
const failures = [];
const latencies = [];
let next = 0, done = 0, timedOut = false;
const started = Date.now();

async function send({ malformed, req }) {
  const t0 = performance.now();
  let status = 0, text = "", contentType = "";
  try {
    const r = await fetch(server.url + req.path, {
      method: req.method, body: req.body, signal: AbortSignal.timeout(Math.max(deadline - Date.now(), 1000)),
      headers: req.body === undefined ? {} : { "Content-Type": "application/json" } });
    status = r.status;
    contentType = r.headers.get("content-type");
    text = await r.text();
  } catch (e) {
    text = "transport error: " + (e.cause?.code || e.message);
  }
  latencies.push(performance.now() - t0);
  const problem = malformed ? checkMalformed(req, status, text) : checkGood(req, status, contentType, text);
  const key = `${malformed ? "malformed" : "good"} ${req.name} ${status}`;
  tally.set(key, (tally.get(key) || 0) + 1);
  if (problem && failures.length < 20) failures.push(`${key}: ${problem}`);
  else if (problem) failures.push(null);
}

const progress = setInterval(() => process.stderr.write(
  `\r${done}/${total} requests, ${failures.length} failures, ${((Date.now() - started) / 1000).toFixed(0)} s   `), 1000);
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (next < total) {
    if (Date.now() > deadline) { timedOut = true; return; }
    await send(plan[next++]);
    done++;
  }
}));
clearInterval(progress);
process.stderr.write("\n");

const seconds = (Date.now() - started) / 1000;
const alive = server.alive();
const healthy = alive && (await fetch(server.url + "/health").then((r) => r.ok, () => false));
const peakRssMiB = alive ? server.peakRssKiB() / 1024 : NaN;
const exit = await server.stop();
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
const report = {
  requests: done, planned: total, malformed: plan.slice(0, done).filter((p) => p.malformed).length,
  concurrency, seconds: Number(seconds.toFixed(1)), requests_per_s: Number((done / seconds).toFixed(1)),
  latency_ms: { p50: Math.round(pct(50)), p90: Math.round(pct(90)), p99: Math.round(pct(99)) },
  server_alive: alive, healthy, server_exit: exit, peak_rss_mib: Number(peakRssMiB.toFixed(1)),
  timed_out: timedOut, failures: failures.length, first_failures: failures.filter(Boolean),
  by_kind: Object.fromEntries([...tally].sort()),
};
console.log(JSON.stringify(report, null, 1));
if (opt.json) fs.writeFileSync(opt.json, JSON.stringify(report, null, 1));
// A clean exit on SIGTERM too: under the sanitizers a leak or an error at shutdown fails the run.
const passed = alive && healthy && !timedOut && done === total && failures.length === 0 && exit.code === 0;
if (!passed) console.log("server output (end):\n" + server.output().slice(-4000));
console.log(passed ? "load test passed" : "load test FAILED");
process.exit(passed ? 0 : 1);
