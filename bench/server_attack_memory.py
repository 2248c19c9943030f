#!/usr/bin/python3
"""The memory and time of issue 29's attacks on `dimple serve`, one fresh server per scenario.

For each scenario: the server's resident memory at start, its peak (VmHWM) during the scenario,
its resident memory 2 s after, the statuses it answered and the wall time. Uses Debian's
python3-pil for the images; run from the repository root after a build:

    /usr/bin/python3 bench/server_attack_memory.py [--model models/dimple-shapes] [--memory-limit 2G]
                                                   [scenario ...]
"""
import argparse, base64, gzip, io, json, re, socket, subprocess, threading, time, urllib.request

from PIL import Image

MIB = 1 << 20


def status_kib(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024


class Server:
    def __init__(self, args, extra=()):
        cmd = ["build/dimple", "serve", "--model", args.model, "--port", "0", "--compute", "f32",
               "--memory-limit", args.memory_limit, *extra]
        self.p = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
        self.port = None
        while self.port is None:
            m = re.search(r"listening on http://127.0.0.1:(\d+)", self.p.stderr.readline())
            if m:
                self.port = int(m.group(1))
        self.start = status_kib(self.p.pid, "VmRSS:")

    def post(self, body, headers=None, timeout=900):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/v1/chat/completions", body,
                                     {"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                r.read()
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError as e:
            return f"closed ({e.__class__.__name__})"

    def raw(self, pieces, pace=0.0):
        s = socket.create_connection(("127.0.0.1", self.port))
        try:
            for p in pieces:
                s.sendall(p)
                time.sleep(pace)
            s.settimeout(120)
            got = s.recv(200).decode(errors="replace")
            return int(got.split()[1]) if got.startswith("HTTP/1.1 ") else "closed"
        except OSError:
            return "closed"
        finally:
            s.close()

    def health_ms(self):
        t0 = time.time()
        urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=120).read()
        return round((time.time() - t0) * 1000)

    def finish(self, name, statuses, seconds, note=""):
        peak = status_kib(self.p.pid, "VmHWM:")
        time.sleep(2)
        after = status_kib(self.p.pid, "VmRSS:")
        self.p.terminate()
        self.p.wait()
        counts = {}
        for s in statuses:
            counts[str(s)] = counts.get(str(s), 0) + 1
        print(f"| {name} | {counts} | {seconds:.1f} | {self.start / MIB:.0f} | {peak / MIB:.0f} | {after / MIB:.0f} |"
              f" {note} |", flush=True)


def at_once(n, f):
    out = []
    threads = [threading.Thread(target=lambda: out.append(f())) for _ in range(n)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return out


def png(side):
    b = io.BytesIO()
    Image.new("RGB", (side, side), (40, 110, 200)).save(b, "PNG")
    return "data:image/png;base64," + base64.b64encode(b.getvalue()).decode()


def user(content, **extra):
    return json.dumps({"messages": [{"role": "user", "content": content}], **extra}).encode()


def scenario(args, name):
    t0 = time.time()
    if name == "text-10MB-x12":  # rejected prompts: nothing may stay behind
        s = Server(args)
        st = [s.post(user("a" * (10 << 20))) for _ in range(12)]
        return s.finish("12 x 10 MB of text, one after another", st, time.time() - t0)
    if name == "skip-layers":
        s = Server(args)
        st = [s.post(user("hi", skip_layers=",".join(["0-999999"] * 40)))]
        return s.finish("skip_layers of 40 x 0-999999 (360 characters)", st, time.time() - t0)
    if name == "chunked-25MB":
        s = Server(args)
        st = [s.raw([b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"] +
                    [b"100000\r\n" + b" " * (1 << 20) + b"\r\n"] * 25 + [b"0\r\n\r\n"])]
        return s.finish("25 MB chunked body", st, time.time() - t0)
    if name == "gzip-bombs":
        s = Server(args)
        st = [s.post(gzip.compress(b" " * (n << 20)), {"Content-Encoding": "gzip"}) for n in (100, 1000)]
        return s.finish("gzip bodies inflating to 100 MB and 1 GB", st, time.time() - t0)
    if name == "headers-4x50MB":
        s = Server(args, ["--api-key", "k"])
        st = [s.raw([b"GET /v1/models HTTP/1.1\r\nHost: x\r\n"] + [b"X-A: " + b"a" * 8000 + b"\r\n"] * 6400)
              for _ in range(4)]
        return s.finish("4 x 50 MB of headers, no key", st, time.time() - t0)
    if name == "slowloris":
        s = Server(args, ["--queue-size", "2", "--max-batch", "1", "--request-timeout", "10"])
        slow = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(16)]
        for c in slow:
            c.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
        ms = s.health_ms()
        st = [s.post(user("Hi", max_tokens=8))]
        chat_ms = round((time.time() - t0) * 1000) - ms
        [c.close() for c in slow]
        return s.finish("16 slow clients, --queue-size 2 --max-batch 1", st, time.time() - t0,
                        f"/health {ms} ms, chat {chat_ms} ms during it")
    if name == "images-8x4":
        s = Server(args)
        parts = [{"type": "image_url", "image_url": {"url": png(4096)}} for _ in range(4)] + [
            {"type": "text", "text": "Describe."}]
        body = user(parts, max_tokens=64)
        st = at_once(8, lambda: s.post(body))
        return s.finish("8 at once x 4 images of 4096 x 4096", st, time.time() - t0)
    if name == "long-1024":
        s = Server(args)
        st = [s.post(user("Describe the image.", max_tokens=1024, steps=1024, threshold=0, temperature=0))]
        return s.finish("1024 tokens in 1024 steps", st, time.time() - t0)
    if name == "streams-80":
        s = Server(args)
        body = user("Hi", max_tokens=64, steps=16, stream=True, stream_canvas=True)
        st = at_once(80, lambda: s.post(body))
        return s.finish("80 canvas streams at once (64 tokens, 16 steps)", st, time.time() - t0)
    raise SystemExit(f"unknown scenario {name}")


ALL = ["text-10MB-x12", "skip-layers", "chunked-25MB", "gzip-bombs", "headers-4x50MB", "slowloris",
       "images-8x4", "long-1024", "streams-80"]

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="models/dimple-shapes")
    ap.add_argument("--memory-limit", default="2G")
    ap.add_argument("scenarios", nargs="*", default=ALL)
    a = ap.parse_args()
    print("| scenario | statuses | s | RSS at start MiB | peak MiB | 2 s after MiB | |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in a.scenarios:
        scenario(a, name)
