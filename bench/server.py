#!/usr/bin/env python3
"""Load benchmark of `helpbook serve --production` on loopback, with wrk.

Measures, on a built site (default: the 10,000-page synthetic site):
  1. GET /api/search over 40 queries (English, Chinese, typos, prefixes), answered from the
     server's answer cache after their first time (as repeated questions are in real use);
  2. the same with session and search ids, so every search is also recorded;
  3. the same 40 queries with the cache off (HELPBOOK_SERVER__SEARCH_CACHE=0): every request
     runs the search;
  4. POST /api/events, one event per request, each with its own session; afterwards the
     events in the SQLite store are counted against the 2xx answers wrk saw (no loss).

Usage:
  python3 bench/server.py [--site /tmp/syn10k] [--connections 64] [--duration 15]
                          [--binary target/release/helpbook] [--no-build]

Needs wrk (`apt-get install wrk`) and a release build (`cargo build --release`). The rate
limit is turned off for the run (HELPBOOK_SERVER__RATE_LIMIT=0). Generate the synthetic site
with `python3 bench/gensite.py /tmp/syn10k --pages 10000` if it is missing.

bench/run.py uses the pieces of this file (QUERIES, serve, run_wrk, parse) for the search
numbers of BENCHMARKS.md.
"""

import argparse
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

QUERIES = [
    "rate limit 429", "certificate verify failed", "LDAP synchronisation", "ldap sync",
    "recording quota exceeded", "websocket closed 1006", "TURN server", "turn servr unreachable",
    "media server capacity", "webhook retry", "chat history", "captions language",
    "lobby enabled", "upload too large", "403 forbidden", "rooms:write permission",
    "snapshot object storage", "breakout rooms", "no sound", "students can't hear me",
    "recrding missing", "certifcate", "rec", "webh", "moderator role", "audit log",
    "gdpr export", "录像", "课程录像 API", "API 令牌权限", "信令服务报错", "媒体服务器",
    "分组讨论室", "存储配额", "视频很卡怎么办", "主持人角色", "TURN 中继", "HTTP 429 速率限制",
    "the", "how do i change the default bitrate for large classes",
]

SEARCH_LUA = """
local paths = {%s}
local record = %s
local i = 0
local counter = 0
local tid = 0
setup = function(thread) tid = tid + 1; thread:set("tid", tid) end
init = function(args) i = math.random(#paths) end
request = function()
  i = i %% #paths + 1
  local path = paths[i]
  if record then
    counter = counter + 1
    path = path .. "&session=bench-" .. (tid or 0) .. "-" .. counter .. "&search_id=typing-" .. counter
  end
  return wrk.format("GET", path)
end
"""

EVENTS_LUA = """
local threads = {}
local n = 0
setup = function(thread)
  n = n + 1
  thread:set("id", n)
  table.insert(threads, thread)
end
init = function(args)
  ok = 0
  bad = 0
  counter = 0
end
request = function()
  counter = counter + 1
  local body = '{"type":"view","session":"load-' .. id .. '-' .. counter .. '","url":"/index.html"}'
  return wrk.format("POST", "/api/events", {["Content-Type"] = "application/json"}, body)
end
response = function(status, headers, body)
  if status == 200 then ok = ok + 1 else bad = bad + 1 end
end
done = function(summary, latency, requests)
  local total_ok, total_bad = 0, 0
  for _, t in ipairs(threads) do
    total_ok = total_ok + t:get("ok")
    total_bad = total_bad + t:get("bad")
  end
  io.write(string.format("ACKED %d REFUSED %d\\n", total_ok, total_bad))
end
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, proc, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit("the server exited:\n" + proc.stderr.read().decode(errors="replace"))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit("the server did not start")


WRK_THREADS = 1


def search_paths(queries=QUERIES, limit=None):
    """The Lua list of /api/search paths for SEARCH_LUA."""
    extra = f"&limit={limit}" if limit else ""
    return ", ".join(json.dumps("/api/search?q=" + urllib.parse.quote_plus(q) + extra) for q in queries)


def run_wrk(port, lua, connections, duration, threads=None, prefix=()):
    """Runs wrk (after `prefix`, e.g. a taskset) against 127.0.0.1:port; returns its report."""
    threads = threads or WRK_THREADS
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua)
        script = f.name
    cmd = list(prefix) + ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
           "--latency", "-s", script, f"http://127.0.0.1:{port}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    os.unlink(script)
    return out


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def parse(out):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    pct = {p: to_ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M)}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {
        "rps": rps, "p50": pct.get("50"), "p90": pct.get("90"), "p99": pct.get("99"),
        "requests": total, "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


class serve:
    """`helpbook serve --production` on a free port, stopped gracefully (SIGINT) on exit."""

    def __init__(self, binary, site, store, extra_env, prefix=()):
        self.cmd = list(prefix) + [binary, "serve", "--production", site]
        self.env = dict(os.environ, HELPBOOK_SERVER__RATE_LIMIT="0", HELPBOOK_SERVER__EVENTS=store, **extra_env)

    def __enter__(self):
        port = free_port()
        self.proc = subprocess.Popen(self.cmd + ["--port", str(port)], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_ready(port, self.proc)
        except BaseException:
            self.proc.kill()
            self.proc.wait()
            raise
        return port

    def __exit__(self, *exc):
        self.proc.send_signal(2)  # SIGINT: a graceful stop writes every queued event
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--site", default="/tmp/syn10k")
    ap.add_argument("--binary", default="target/release/helpbook")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--no-build", action="store_true", help="serve the site's existing build")
    ap.add_argument("--wrk-threads", type=int, default=1,
                    help="wrk threads (default 1: wrk shares the 2 cores with the server, and a "
                         "second wrk thread takes CPU from it and shows up as queueing in p99)")
    args = ap.parse_args()
    global WRK_THREADS
    WRK_THREADS = args.wrk_threads
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    binary = os.path.abspath(args.binary)
    if not args.no_build:
        print(f"building {args.site} …", flush=True)
        subprocess.run([binary, "-q", "build", args.site], check=True)

    paths = search_paths()
    results = {}

    # The search without its cache, on a server of its own.
    store_dir = tempfile.mkdtemp(prefix="helpbook-bench-")
    with serve(binary, args.site, os.path.join(store_dir, "nocache.sqlite"), {"HELPBOOK_SERVER__SEARCH_CACHE": "0"}) as port:
        run_wrk(port, SEARCH_LUA % (paths, "false"), 8, 3)
        results["nocache"] = parse(run_wrk(port, SEARCH_LUA % (paths, "false"), args.connections, args.duration))

    store = os.path.join(store_dir, "events.sqlite")
    with serve(binary, args.site, store, {}) as port:
        run_wrk(port, SEARCH_LUA % (paths, "false"), 8, 3)
        for name, record in [("search", "false"), ("search+record", "true")]:
            results[name] = parse(run_wrk(port, SEARCH_LUA % (paths, record), args.connections, args.duration))
        out = run_wrk(port, EVENTS_LUA, args.connections, args.duration)
        results["events"] = parse(out)
        acked = int(re.search(r"ACKED (\d+)", out).group(1))
        refused = int(re.search(r"REFUSED (\d+)", out).group(1))
    with sqlite3.connect(store) as db:
        stored = db.execute("SELECT COUNT(*) FROM events WHERE kind = 'view' AND session LIKE 'load-%'").fetchone()[0]
        searches = db.execute("SELECT COUNT(*) FROM events WHERE kind = 'search' AND session LIKE 'bench-%'").fetchone()[0]
    shutil.rmtree(store_dir, ignore_errors=True)

    print(f"\n{args.site}, {args.connections} connections, {args.duration} s each, "
          f"wrk -t{WRK_THREADS} on the same machine ({os.cpu_count()} cores)\n")
    print(f"{'endpoint':<34} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for name, label in [("search", "GET /api/search"), ("search+record", "GET /api/search (recorded)"),
                        ("nocache", "GET /api/search (cache off)"), ("events", "POST /api/events (1 event)")]:
        r = results[name]
        print(f"{label:<34} {r['rps']:>9.0f} {r['p50']:>8.2f} {r['p90']:>8.2f} {r['p99']:>8.2f} {r['non2xx']:>8}")
    print(f"\nevents acknowledged (200): {acked}, refused: {refused}, in the store after stop: {stored}"
          f" -> {'no loss' if stored >= acked else f'LOST {acked - stored}'}")
    print(f"recorded searches stored: {searches}")
    targets = [("search req/s >= 3000", results["search"]["rps"] >= 3000),
               ("search p99 <= 10 ms", results["search"]["p99"] <= 10),
               ("events/s >= 5000", results["events"]["rps"] >= 5000),
               ("no acknowledged event lost", stored >= acked)]
    print("\n" + "\n".join(f"  [{'x' if ok else ' '}] {name}" for name, ok in targets))
    return 0 if stored >= acked else 1


if __name__ == "__main__":
    sys.exit(main())
