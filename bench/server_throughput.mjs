#!/usr/bin/env node
// Throughput and latency of `dimple serve` under concurrent clients: the same set of requests sent
// one at a time, then by 4 and by 16 concurrent clients (continuous batching shares each step's
// forward pass among them). Reports answer tokens/s (completion tokens / wall time) and end-to-end
// latency percentiles per level, and the speed-up over one at a time.
//
//   node bench/server_throughput.mjs [--model DIR] [--requests 32] [--max-tokens 32] [--steps 32]
//        [--top-p 0.95] [--levels 1,4,16] [--image] [--threads N] [--json out.json]
// The binary: DIMPLE_CLI (default build/dimple).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { imageDataUrl, serverModel, startServer } from "../tests/server/js/serve.mjs";

const { values: opt } = parseArgs({ options: {
  model: { type: "string", default: serverModel() }, requests: { type: "string", default: "32" },
  "max-tokens": { type: "string", default: "32" }, steps: { type: "string", default: "32" },
  "top-p": { type: "string", default: "0.95" }, levels: { type: "string", default: "1,4,16" },
  image: { type: "boolean", default: false },
  threads: { type: "string" }, json: { type: "string" } } });

const prompts = ["Describe the picture.", "What colour is the sky?", "Name three animals.", "Write a haiku.",
                 "What is two plus two?", "Say hello in French.", "List four fruits.", "Tell me a fact."];
const requests = Array.from({ length: Number(opt.requests) }, (_, i) => {
  const text = prompts[i % prompts.length];
  const content = opt.image ? [{ type: "image_url", image_url: { url: imageDataUrl() } }, { type: "text", text }] : text;
  // Temperature 0 and threshold 0 (a fixed number of tokens per step): every level does the same work.
  return JSON.stringify({ model: path.basename(opt.model), messages: [{ role: "user", content }],
                          max_tokens: Number(opt["max-tokens"]), steps: Number(opt.steps), temperature: 0,
                          threshold: 0, top_p: Number(opt["top-p"]) });
});

const args = opt.threads ? ["--threads", opt.threads] : [];
const server = await startServer({ model: opt.model, args });

async function complete(body) {
  const t0 = performance.now();
  const r = await fetch(server.url + "/v1/chat/completions", { method: "POST", body,
                                                              headers: { "Content-Type": "application/json" } });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`status ${r.status}: ${text}`);
  return { ms: performance.now() - t0, tokens: JSON.parse(text).usage.completion_tokens };
}

async function level(clients) {
  const results = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < requests.length) results.push(await complete(requests[next++]));
  }));
  const seconds = (performance.now() - t0) / 1000;
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  const pct = (p) => ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))];
  const tokens = results.reduce((s, r) => s + r.tokens, 0);
  return { clients, requests: results.length, tokens, seconds: +seconds.toFixed(2),
           tokens_per_s: +(tokens / seconds).toFixed(1),
           p50_ms: Math.round(pct(50)), p90_ms: Math.round(pct(90)), p99_ms: Math.round(pct(99)) };
}

await complete(requests[0]);   // warm-up: first-touch of the weights, thread pools
const rows = [];
for (const clients of opt.levels.split(",").map(Number)) {
  rows.push(await level(clients));
  process.stderr.write(`${clients} clients: ${JSON.stringify(rows[rows.length - 1])}\n`);
}
const peakRssMiB = server.peakRssKiB() / 1024;
await server.stop();

const cpu = os.cpus()[0].model;
console.log(`model ${opt.model}, ${requests.length} requests of ${opt["max-tokens"]} tokens / ${opt.steps} steps, ` +
            `top_p ${opt["top-p"]}` +
            `${opt.image ? " with an image" : ""}, CPU ${cpu} x${os.cpus().length}, peak RSS ${peakRssMiB.toFixed(0)} MiB`);
console.log("| clients | answer tokens/s | speed-up | p50 ms | p90 ms | p99 ms | wall s |");
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const r of rows)
  console.log(`| ${r.clients} | ${r.tokens_per_s} | ${(r.tokens_per_s / rows[0].tokens_per_s).toFixed(2)}x |` +
              ` ${r.p50_ms} | ${r.p90_ms} | ${r.p99_ms} | ${r.seconds} |`);
if (opt.json) fs.writeFileSync(opt.json, JSON.stringify({ cpu, peak_rss_mib: peakRssMiB, rows }, null, 1));
