// Scale-out: `dimple serve` keeps no state between requests, so replicas behind any HTTP load balancer
// scale it. Two replicas behind Debian's nginx on loopback: concurrent requests are all answered, by
// both replicas, with the same temperature-0 answer; one replica is killed mid-run and nginx passes
// its requests (in flight ones included) to the other, so every request is still answered.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { freePort, killOnExit, serverModel, startServer, stopProcess } from "./serve.mjs";

const nginxBinary = process.env.NGINX || "/usr/sbin/nginx";
let replicas = [], nginx, dir, url;

// One worker, in the foreground, everything under a temporary folder; `non_idempotent` lets nginx
// retry a POST whose replica died before answering (safe here: a completion has no side effects).
function nginxConf(port, upstreams) {
  return `master_process off;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  client_max_body_size 32m;
  upstream dimple {
${upstreams.map((u) => `    server ${u} max_fails=1 fail_timeout=30s;`).join("\n")}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://dimple;
      proxy_http_version 1.1;
      proxy_buffering off;
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_read_timeout 120s;
      add_header X-Upstream $upstream_addr always;
    }
  }
}
`;
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "dimple-nginx-"));
  replicas = await Promise.all([startServer(), startServer()]);
  const port = await freePort();
  fs.writeFileSync(path.join(dir, "nginx.conf"), nginxConf(port, replicas.map((r) => `127.0.0.1:${r.port}`)));
  nginx = killOnExit(spawn(nginxBinary, ["-c", path.join(dir, "nginx.conf"), "-p", dir],
                           { stdio: ["ignore", "inherit", "inherit"] }));
  url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; ++i) {            // until nginx answers
    try { if ((await fetch(url + "/health")).ok) break; } catch { /* not listening yet */ }
    assert.ok(i < 100 && nginx.exitCode === null, "nginx did not start: " + fs.readFileSync(path.join(dir, "error.log"), "utf8"));
    await new Promise((r) => setTimeout(r, 100));
  }
});
after(async () => {
  if (nginx) await stopProcess(nginx);
  await Promise.all(replicas.map((r) => r.stop()));
  fs.rmSync(dir, { recursive: true, force: true });
});

const body = JSON.stringify({ model: path.basename(serverModel()), max_tokens: 8, steps: 4, temperature: 0,
                              messages: [{ role: "user", content: "Name a colour." }] });

async function complete() {
  const r = await fetch(url + "/v1/chat/completions", { method: "POST", body,
                                                      headers: { "Content-Type": "application/json" } });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return { upstream: r.headers.get("x-upstream"), content: JSON.parse(text).choices[0].message.content };
}

// Runs `count` requests, `concurrency` at a time; calls onAnswered after each answer.
async function run(count, concurrency, onAnswered = () => {}) {
  const answers = [];
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      next++;
      answers.push(await complete());
      await onAnswered(answers.length);
    }
  }));
  return answers;
}

test("both replicas answer concurrent requests, the same way", async () => {
  const answers = await run(16, 8);
  assert.equal(answers.length, 16);
  const used = new Set(answers.map((a) => a.upstream));
  assert.equal(used.size, 2, [...used].join(" "));
  assert.equal(new Set(answers.map((a) => a.content)).size, 1, "the replicas disagree at temperature 0");
});

test("a replica killed mid-run: every request is still answered", async () => {
  const [victim, survivor] = replicas;
  const answers = await run(32, 8, (n) => { if (n === 8) victim.child.kill("SIGKILL"); });
  assert.equal(answers.length, 32);
  assert.ok(!victim.alive());
  assert.ok(survivor.alive());
  const last = answers.slice(16);   // long after the kill: only the survivor answers
  assert.ok(last.every((a) => a.upstream.endsWith(`:${survivor.port}`)), last.map((a) => a.upstream).join(" "));
});
