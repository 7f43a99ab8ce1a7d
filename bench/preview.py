#!/usr/bin/env python3
"""Preview benchmark: from a saved file to the live-reload message, on a generated site.

Starts `helpbook serve SITE --port 0` (the release binary), listens to its live-reload stream
(/_helpbook/live, server-sent events), then edits one page N times and times each edit from
the moment the file is written to the moment the message naming that page arrives. Prints
p50 / p90 / p99 / max, the preview's memory (resident now and peak), and, when `mdbook` is on
PATH, the time `mdbook build` takes for the same site: what mdBook's serve does on every save.

Usage:
  bench/preview.py --site /tmp/syn10k [--edits 100] [--mode body|title|new] [--no-build]
                   [--mdbook]

Generate the site first:
  python3 ../shared/bench/gen-synthetic.py /tmp/syn10k --pages 10000

--mode body edits the text of one article (the common case); title changes its title, which
every page showing it (its section, neighbours) must show too; new creates a new page each time.
"""
import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def percentile(values, p):
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


class Live:
    """Reads the server-sent events of the preview; keeps (arrival time, message)."""

    def __init__(self, addr):
        host, port = addr.split(":")
        self.sock = socket.create_connection((host, int(port)))
        self.sock.sendall(
            f"GET /_helpbook/live HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        self.messages = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buf = b""
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                return
            now = time.perf_counter()
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                line = line.strip()
                if line.startswith(b"data: "):
                    try:
                        message = json.loads(line[6:])
                    except ValueError:
                        continue
                    with self.cond:
                        self.messages.append((now, message))
                        self.cond.notify_all()

    def wait(self, start_index, predicate, timeout=30.0):
        deadline = time.perf_counter() + timeout
        with self.cond:
            while True:
                for i in range(start_index, len(self.messages)):
                    at, message = self.messages[i]
                    if predicate(message):
                        return at, message, i + 1
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise TimeoutError("no matching message")
                self.cond.wait(left)


def memory_mb(pid):
    rss = hwm = 0.0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    return rss, hwm


def pick_page(site):
    src = os.path.join(site, "src") if os.path.isdir(os.path.join(site, "src")) else os.path.join(site, "content")
    candidates = []
    for dirpath, _, files in os.walk(src):
        for f in sorted(files):
            if f.endswith(".md") and f not in ("SUMMARY.md", "README.md", "index.md"):
                candidates.append(os.path.join(dirpath, f))
        if len(candidates) > 50:
            break
    candidates.sort()
    path = candidates[len(candidates) // 2]
    rel = os.path.relpath(path, src).replace(os.sep, "/")
    return src, path, rel[: -len(".md")] + ".html"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--site", required=True)
    ap.add_argument("--edits", type=int, default=100)
    ap.add_argument("--mode", choices=["body", "title", "new"], default="body")
    ap.add_argument("--pause", type=float, default=0.15, help="seconds between edits")
    ap.add_argument("--no-build", action="store_true", help="use target/release/helpbook as it is")
    ap.add_argument("--mdbook", action="store_true", help="also time `mdbook build` on the site")
    args = ap.parse_args()

    binary = os.path.join(ROOT, "target", "release", "helpbook")
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    site = os.path.abspath(args.site)
    src, page_path, url = pick_page(site)
    original = open(page_path, encoding="utf-8").read()
    page_rel = os.path.relpath(page_path, src).replace(os.sep, "/")
    summary_path = os.path.join(src, "SUMMARY.md")
    summary = open(summary_path, encoding="utf-8").read() if os.path.exists(summary_path) else None

    start = time.perf_counter()
    proc = subprocess.Popen(
        [binary, "serve", site, "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    addr = None
    # --quiet prints nothing: find the port from /proc instead.
    deadline = time.time() + 600
    while addr is None and time.time() < deadline:
        time.sleep(0.2)
        if proc.poll() is not None:
            sys.exit("helpbook serve exited")
        out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if f"pid={proc.pid}," in line:
                addr = line.split()[3]
                break
    if addr is None:
        sys.exit("helpbook serve did not start")
    startup = time.perf_counter() - start
    live = Live(addr)
    _, _, seen = live.wait(0, lambda m: True)
    rss0, _ = memory_mb(proc.pid)

    latencies = []
    created = []
    extra = 0
    try:
        for i in range(args.edits):
            if args.mode == "body":
                text = original + f"\n\nEdit number {i}: the preview must show this line.\n"
                target, want = page_path, url
            elif args.mode == "title":
                text = re.sub(r"^title: .*$", f"title: Edited title {i}", original, count=1, flags=re.M)
                target, want = page_path, url
            else:
                target = os.path.join(os.path.dirname(page_path), f"bench-new-{i}.md")
                rel = os.path.relpath(target, src).replace(os.sep, "/")
                want = rel[:-3] + ".html"
                text = f"---\ntitle: New page {i}\n---\n\nA page created by the benchmark.\n"
                created.append(target)
            t0 = time.perf_counter()
            with open(target, "w", encoding="utf-8") as f:
                f.write(text)
            if args.mode == "new" and summary is not None:
                # Listed next to the edited page, as a writer adds a page to a book.
                lines = open(summary_path, encoding="utf-8").read().split("\n")
                at = next(k for k, l in enumerate(lines) if l.rstrip().endswith("(" + page_rel + ")"))
                indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
                lines.insert(at + 1, f"{indent}- [New page {i}]({rel})")
                with open(summary_path, "w", encoding="utf-8") as f:
                    f.write("\n".join(lines))
            before = len(live.messages)
            at, message, seen = live.wait(
                seen,
                lambda m: m.get("type") == "reload" and (m.get("all") or want in m.get("pages", [])),
            )
            # A message still on its way from the previous edit does not count.
            while at < t0:
                at, message, seen = live.wait(
                    seen,
                    lambda m: m.get("type") == "reload" and (m.get("all") or want in m.get("pages", [])),
                )
            extra += len(live.messages) - before - 1
            latencies.append((at - t0) * 1000)
            time.sleep(args.pause)
        rss, hwm = memory_mb(proc.pid)
    finally:
        with open(page_path, "w", encoding="utf-8") as f:
            f.write(original)
        if summary is not None:
            with open(summary_path, "w", encoding="utf-8") as f:
                f.write(summary)
        for path in created:
            try:
                os.remove(path)
            except OSError:
                pass
        time.sleep(0.5)
        proc.terminate()
        proc.wait(timeout=30)

    print(f"site: {site}  page edited: {url}  mode: {args.mode}  edits: {len(latencies)}")
    print(f"startup (build + index + listen): {startup:.2f} s")
    print(
        "write -> reload message: p50 {:.1f} ms  p90 {:.1f} ms  p99 {:.1f} ms  max {:.1f} ms  mean {:.1f} ms".format(
            percentile(latencies, 50),
            percentile(latencies, 90),
            percentile(latencies, 99),
            max(latencies),
            statistics.mean(latencies),
        )
    )
    print(f"messages beyond one per edit: {extra + sum(1 for _ in live.messages[seen:])}")
    print(f"memory: {rss0:.0f} MB resident after start, {rss:.0f} MB after the edits, peak {hwm:.0f} MB")
    if args.mdbook and shutil.which("mdbook"):
        out = os.path.join("/tmp", "preview-bench-mdbook")
        t = time.perf_counter()
        subprocess.run(["mdbook", "build", site, "-d", out], check=True, capture_output=True)
        mdbook = (time.perf_counter() - t) * 1000
        shutil.rmtree(out, ignore_errors=True)
        print(
            f"mdbook build (what mdbook serve does on every save): {mdbook:.0f} ms; "
            f"helpbook p50 is {mdbook / percentile(latencies, 50):.0f}x faster"
        )


if __name__ == "__main__":
    main()
