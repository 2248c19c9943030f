#!/usr/bin/env node
// Memory under attack: starts `dimple serve --memory-limit LIMIT` and sends, ROUNDS times and all at
// once, the worst legal requests its limits allow (images of the most pixels, the most tokens and
// steps, a streamed canvas, the longest prompt) next to illegal ones (bodies over the limit, plain,
// chunked and gzip-inflating; header floods; a 10 MB prompt; a million JSON values; layer-list
// bombs; slow clients; more connections than the cap). Checks that every answer is what it should
// be (a busy server may answer 503/429 with Retry-After), that the server is alive and healthy, and
// that its peak resident memory (VmHWM) stayed within LIMIT. Prints a JSON report.
//
//   node tests/server/js/memory.mjs [--memory-limit 1G] [--rounds 2] [--copies 4]
//        [--max-tokens 256] [--max-steps 16] [--rss-check on|off] [--json report.json]
// (--rss-check off under the sanitizers, whose shadow memory and quarantine are no server's own.)
// A big upload may also time out (408) on a busy machine: --request-timeout is 5 s here.
import fs from "node:fs";
import net from "node:net";
import zlib from "node:zlib";
import { parseArgs } from "node:util";
import { encodePng } from "./png.mjs";
import { startServer } from "./serve.mjs";

const { values: opt } = parseArgs({ options: {
  "memory-limit": { type: "string", default: "1G" }, rounds: { type: "string", default: "2" },
  copies: { type: "string", default: "4" }, "max-tokens": { type: "string", default: "256" },
  "max-steps": { type: "string", default: "16" }, "rss-check": { type: "string", default: "on" },
  json: { type: "string" } } });
const units = { K: 1 << 10, M: 1 << 20, G: 1 << 30 };
const limitBytes = Number.parseFloat(opt["memory-limit"]) * (units[opt["memory-limit"].slice(-1).toUpperCase()] || 1);
const maxTokens = Number(opt["max-tokens"]), maxSteps = Number(opt["max-steps"]);
const side = 4096, bodyLimit = 20 << 20, connections = 64;

const server = await startServer({ args: ["--memory-limit", opt["memory-limit"], "--max-tokens-limit", String(maxTokens),
  "--max-steps-limit", String(maxSteps), "--max-connections", String(connections), "--request-timeout", "5",
  "--max-image-pixels", String(side * side), "--max-body-bytes", String(bodyLimit)] });
const url = server.url + "/v1/chat/completions";

// A flat PNG of width x height: its pixels cost the server width x height x 3 bytes, its file little.
function png(width, height) {
  const row = Buffer.alloc(1 + width * 3, 0x5a); row[0] = 0;
  return encodePng(width, height, 8, 2, Buffer.concat(Array.from({ length: height }, () => row)));
}
const image = "data:image/png;base64," + png(side, side).toString("base64");
const user = (content) => ({ messages: [{ role: "user", content }] });

async function post(body, headers = {}) {
  try {
    const r = await fetch(url, { method: "POST", body, headers: { "Content-Type": "application/json", ...headers },
      signal: AbortSignal.timeout(600000) });
    return { status: r.status, text: await r.text(), retry: r.headers.get("retry-after") };
  } catch (e) {
    return { status: 0, text: String(e.cause?.code || e.message) };
  }
}

// Raw bytes on one connection (written a piece at a time, `pace` ms apart); the first status line
// that comes back, or 0 when the server closed without one.
function raw(pieces, pace = 0) {
  return new Promise((resolve) => {
    const s = net.connect(server.port, "127.0.0.1");
    let got = "", i = 0;
    const finish = () => {
      s.destroy();
      resolve({ status: Number((got.match(/^HTTP\/1\.1 (\d{3})/) || [0, 0])[1]), text: got,
                retry: (got.match(/\r\nRetry-After: (\S+)\r\n/i) || [null, null])[1] });
    };
    s.on("data", (d) => { got += d; if (/\r\n\r\n/.test(got)) setTimeout(finish, 50); });
    s.on("error", finish);
    s.on("close", finish);
    const next = () => {
      if (i >= pieces.length || s.destroyed) return;
      s.write(pieces[i++], () => (pace ? setTimeout(next, pace) : next()));
    };
    s.on("connect", next);
  });
}

const busy = (r) => (r.status === 503 || r.status === 429) && r.retry === "1";
const errorBody = (r) => { try { return JSON.parse(r.text.slice(r.text.indexOf("{"))).error !== undefined; } catch { return false; } };
const legal = (r) => (r.status === 200 && !errorBody(r)) || busy(r);
const refused = (...codes) => (r) => (codes.includes(r.status) && (errorBody(r) || r.status === 0)) || busy(r);

const attacks = {
  "images": () => post(JSON.stringify({ ...user([...Array(4)].map(() => ({ type: "image_url", image_url: { url: image } }))
    .concat([{ type: "text", text: "Describe." }])), max_tokens: maxTokens, steps: maxSteps })),
  "long-stream-canvas": () => post(JSON.stringify({ ...user("Say a lot."), max_tokens: maxTokens, steps: maxSteps,
    threshold: 0, stream: true, stream_canvas: true })),
  "long-prompt": () => post(JSON.stringify({ ...user("a b ".repeat(1800)), max_tokens: maxTokens, steps: maxSteps })),
  "body-over-limit": () => post("{" + " ".repeat(bodyLimit + 10) + "}"),
  "chunked-over-limit": () => raw(["POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
    ...Array(26).fill("100000\r\n" + " ".repeat(1 << 20) + "\r\n")]),
  "gzip-bomb": () => post(zlib.gzipSync(Buffer.alloc(100 << 20, 32)), { "Content-Encoding": "gzip" }),
  "header-fields": () => raw(["GET /v1/models HTTP/1.1\r\nHost: x\r\n" + "X-A: 1\r\n".repeat(10000) + "\r\n"]),
  "header-bytes": () => raw(["GET /v1/models HTTP/1.1\r\nHost: x\r\nX-A: ", ...Array(50).fill("a".repeat(1 << 20))]),
  "prompt-10MB": () => post(JSON.stringify(user("a".repeat(10 << 20)))),
  "json-values": () => post(JSON.stringify({ ...user("hi"), junk: Array(1 << 20).fill(0) })),
  "skip-layers": () => post(JSON.stringify({ ...user("hi"), skip_layers: Array(40).fill("0-999999").join(",") })),
  "slow-client": () => raw(["POST /v1/chat/completions HTTP/1.1\r\n", ..."Host: x\r\nX-Slow: 1234567890\r\n".split("")], 400),
};
const expected = {
  "images": legal, "long-stream-canvas": legal, "long-prompt": legal,
  "body-over-limit": refused(413), "chunked-over-limit": refused(413, 408, 0), "gzip-bomb": refused(413),
  "header-fields": refused(431), "header-bytes": refused(431, 408, 0), "prompt-10MB": refused(400),
  "json-values": refused(400), "skip-layers": refused(400), "slow-client": refused(408, 503, 0),
};

const tally = {}, failures = [];
let peakKiB = 0;
const watch = setInterval(() => { if (server.alive()) peakKiB = Math.max(peakKiB, server.peakRssKiB()); }, 200);
const started = Date.now();
for (let round = 0; round < Number(opt.rounds); ++round) {
  const runs = [];
  for (const [name, attack] of Object.entries(attacks)) {
    const copies = name in { "images": 1, "long-stream-canvas": 1, "long-prompt": 1 } ? Number(opt.copies) : 2;
    for (let c = 0; c < copies; ++c) runs.push(attack().then((r) => [name, r]));
  }
  const results = await Promise.all(runs);
  // Then more connections than the cap, all at once: the surplus is told 503.
  const flood = [];
  for (let c = 0; c < connections + 16; ++c) flood.push(raw(["GET /health HTTP/1.1\r\nHost: x\r\n\r\n"]).then((r) => ["flood", r]));
  for (const [name, r] of results.concat(await Promise.all(flood))) {
    const ok = name === "flood" ? [200, 503, 0].includes(r.status) : expected[name](r);
    const key = `${name} ${r.status}`;
    tally[key] = (tally[key] || 0) + 1;
    if (!ok && failures.length < 20) failures.push(`${key}: ${r.text.slice(0, 200)}`);
  }
}
clearInterval(watch);
const alive = server.alive();
// Healthy: /health answers 200 once the flood's connections are gone (until the server has seen
// them close, a probe can still be over the connection cap and be told 503): a few tries.
let healthy = false;
for (let i = 0; alive && !healthy && i < 20; ++i) {
  if (i) await new Promise((r) => setTimeout(r, 250));
  healthy = await fetch(server.url + "/health").then((r) => r.ok, () => false);
}
const metrics = alive ? await fetch(server.url + "/metrics").then((r) => r.text()) : "";
const metric = (name) => Number((metrics.match(new RegExp(`^${name} (\\S+)$`, "m")) || [0, NaN])[1]);
if (alive) peakKiB = Math.max(peakKiB, server.peakRssKiB());
const exit = await server.stop();
const MiB = (b) => Number((b / 1048576).toFixed(1));
const report = {
  memory_limit_mib: MiB(limitBytes), peak_rss_mib: MiB(peakKiB * 1024),
  reserved_peak_mib: MiB(metric("dimple_memory_reserved_peak_bytes")), capacity_mib: MiB(metric("dimple_memory_capacity_bytes")),
  seconds: Number(((Date.now() - started) / 1000).toFixed(1)), server_alive: alive, healthy, server_exit: exit,
  failures: failures.length, first_failures: failures, by_kind: Object.fromEntries(Object.entries(tally).sort()),
};
console.log(JSON.stringify(report, null, 1));
if (opt.json) fs.writeFileSync(opt.json, JSON.stringify(report, null, 1));
const withinLimit = opt["rss-check"] === "off" || peakKiB * 1024 <= limitBytes;
const passed = alive && healthy && exit.code === 0 && failures.length === 0 && withinLimit;
if (!passed) console.log("server output (end):\n" + server.output().slice(-4000));
console.log(passed ? "memory test passed" : "memory test FAILED");
process.exit(passed ? 0 : 1);
