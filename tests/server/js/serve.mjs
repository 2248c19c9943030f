// Starts and stops `dimple serve` processes for the client tests, the load test and the throughput
// benchmark. The binary and the model come from the environment (ctest sets both, so each build
// tests its own binary: build/ or build-asan/).
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export const dimpleBinary = () => process.env.DIMPLE_CLI || path.join(repoRoot, "build/dimple");
// The fixture tests/server/make_fixture.sh writes: a tiny random Dimple with the real Qwen tokenizer.
export const serverModel = () => process.env.DIMPLE_SERVER_MODEL || path.join(repoRoot, "build/server-fixture/tiny-dimple");
export const fixtureImage = () => path.join(path.dirname(serverModel()), "photo.png");
export const imageDataUrl = (file = fixtureImage()) =>
  "data:image/png;base64," + fs.readFileSync(file).toString("base64");

// A port nobody listens on right now (the kernel picks it; released before the server binds it).
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// Servers still running when this process ends (normally or by SIGINT/SIGTERM) are killed with it.
const running = new Set();
process.on("exit", () => { for (const child of running) child.kill("SIGKILL"); });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(128 + (signal === "SIGINT" ? 2 : 15)));
export function killOnExit(child) {
  running.add(child);
  child.on("exit", () => running.delete(child));
  return child;
}

// Spawns `dimple serve` and resolves once it prints "listening on http://HOST:PORT".
export async function startServer({ args = [], timeoutMs = 120000, model = serverModel() } = {}) {
  const port = await freePort();
  const argv = ["serve", "--model", model, "--host", "127.0.0.1", "--port", String(port), ...args];
  const child = killOnExit(spawn(dimpleBinary(), argv, { stdio: ["ignore", "pipe", "pipe"] }));
  let output = "";
  const collect = (d) => { output = (output + d).slice(-20000); };
  child.stdout.on("data", collect);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dimple serve did not start in ${timeoutMs} ms:\n${output}`)), timeoutMs);
    child.stderr.on("data", (d) => {
      collect(d);
      if (/listening on http:\/\//.test(output)) { clearTimeout(timer); resolve(); }
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`dimple serve exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
  child.stderr.removeAllListeners("data");
  child.stderr.on("data", collect);
  return {
    child, port, url: `http://127.0.0.1:${port}`,
    output: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
    peakRssKiB: () => peakRssKiB(child.pid),
    stop: () => stopProcess(child),
  };
}

// SIGTERM, then SIGKILL if it lingers; resolves with how it ended.
export function stopProcess(child, graceMs = 15000) {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", (code, signal) => { clearTimeout(timer); resolve({ code, signal }); });
    child.kill("SIGTERM");
  });
}

// Peak resident memory (VmHWM) of a live process, in KiB.
export function peakRssKiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const m = status.match(/^VmHWM:\s+(\d+) kB/m);
  if (!m) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(m[1]);
}

// Parses a text/event-stream body: the JSON of every `data:` line, and whether [DONE] ended it.
export function parseSse(text) {
  const chunks = [];
  let done = false;
  for (const line of text.split("\n")) {
    if (!line.startsWith("data:")) continue;
    const data = line.slice(5).trim();
    if (done) throw new Error("data after [DONE]");
    if (data === "[DONE]") done = true;
    else chunks.push(JSON.parse(data));
  }
  return { chunks, done };
}
