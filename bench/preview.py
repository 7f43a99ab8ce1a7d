#!/usr/bin/env python3
"""Preview benchmark: from a saved file to the live-reload message, on a generated site.

Starts `helpbook serve SITE` (the release binary), listens to its live-reload stream
(/_helpbook/live, server-sent events), then edits one page N times and times each edit from the
moment the file is written to the moment the message naming that page arrives. Prints
p50 / p90 / p99 / max and the preview's memory (resident now and peak). With --mdbook it then
does the same body edits under `mdbook serve`, timed to the "reload" message on mdBook's
live-reload WebSocket (/__livereload).

Usage:
  bench/preview.py --site /tmp/syn10k [--edits 100] [--mode body|title|new] [--no-build]
                   [--mdbook [--mdbook-edits 5]]

Generate the site first:
  python3 bench/gensite.py /tmp/syn10k --pages 10000

--mode body edits the text of one article (the common case); title changes its title, which
every page showing it (its section, neighbours) must show too; new creates a new page each time.

bench/run.py uses the pieces of this file (HelpbookPreview, MdbookServe, edit_latencies) for the
side-by-side numbers of BENCHMARKS.md.
"""
import argparse
import base64
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def percentile(values, p):
    """Nearest-rank percentile of values (p in 0..100)."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, timeout, what):
    """Waits until something accepts connections on port; exits if proc dies first."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout} s")


def stop(proc, timeout=30):
    """Stops a server this script started (SIGTERM, then SIGKILL)."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class _Messages:
    """Messages with their arrival time, and a wait for the first that matches."""

    def __init__(self):
        self.messages = []
        self.cond = threading.Condition()

    def _add(self, at, message):
        with self.cond:
            self.messages.append((at, message))
            self.cond.notify_all()

    def wait(self, start_index, predicate, timeout=30.0):
        """The first message from start_index on that matches: (arrival, message, next index)."""
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

    def first_after(self, t0, predicate, timeout):
        """Arrival time of the first matching message that arrived at or after t0."""
        deadline = time.perf_counter() + timeout
        with self.cond:
            while True:
                for at, message in self.messages:
                    if at >= t0 and predicate(message):
                        return at
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise TimeoutError("no reload message")
                self.cond.wait(left)


class Live(_Messages):
    """Reads the server-sent events of the helpbook preview; keeps (arrival time, message)."""

    def __init__(self, addr):
        super().__init__()
        host, port = addr.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)))
        self.sock.sendall(
            f"GET /_helpbook/live HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buf = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
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
                    self._add(now, message)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class WebSocketLive(_Messages):
    """A minimal WebSocket client (RFC 6455, stdlib only) for mdBook's /__livereload.

    Keeps every text message with its arrival time. Server frames are not masked; a ping is
    answered with a pong (masked, as a client must).
    """

    def __init__(self, port, path="/__livereload", timeout=10):
        super().__init__()
        self.error = None
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
             f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("the WebSocket handshake was cut off")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError("no WebSocket upgrade: " + head.split(b"\r\n", 1)[0].decode(errors="replace"))
        self.sock.settimeout(None)
        threading.Thread(target=self._read, daemon=True).start()

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk

    def _read(self):
        try:
            while True:
                self._need(2)
                now = time.perf_counter()
                b0, b1 = self.buf[0], self.buf[1]
                opcode, length, at = b0 & 0x0F, b1 & 0x7F, 2
                if length == 126:
                    self._need(4)
                    length, at = int.from_bytes(self.buf[2:4], "big"), 4
                elif length == 127:
                    self._need(10)
                    length, at = int.from_bytes(self.buf[2:10], "big"), 10
                self._need(at + length)
                payload, self.buf = self.buf[at:at + length], self.buf[at + length:]
                if opcode == 1:
                    self._add(now, payload.decode(errors="replace"))
                elif opcode == 9:
                    mask = os.urandom(4)
                    masked = bytes(c ^ mask[i % 4] for i, c in enumerate(payload[:125]))
                    self.sock.sendall(bytes([0x8A, 0x80 | len(masked)]) + mask + masked)
                elif opcode == 8:
                    self.error = "closed by the server"
                    return
        except (OSError, ConnectionError) as e:
            self.error = repr(e)
            return

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def memory_mb(pid):
    """(resident now, peak resident) of a process, in MB."""
    rss = hwm = 0.0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    return rss, hwm


def process_usage(pid):
    """CPU seconds (user + system) so far and peak RSS (MB) of a running process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return {"cpu": (int(fields[11]) + int(fields[12])) / ticks, "rss_mb": memory_mb(pid)[1]}


class HelpbookPreview:
    """`helpbook serve SITE` on a free port with its event stream open; stopped on exit."""

    def __init__(self, binary, site, timeout=1800):
        self.binary, self.site, self.timeout = binary, site, timeout
        self.proc = self.live = None

    def __enter__(self):
        port = free_port()
        start = time.perf_counter()
        self.proc = subprocess.Popen([self.binary, "serve", self.site, "--port", str(port), "--quiet"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_listening(port, self.proc, self.timeout, "helpbook serve")
            self.live = Live(f"127.0.0.1:{port}")
            self.live.wait(0, lambda m: True)  # the state as it is, sent on connecting
        except BaseException:
            stop(self.proc)
            raise
        self.startup = time.perf_counter() - start
        return self

    def wait_reload(self, url, t0, timeout=120):
        """Arrival time of the first reload of `url` (or of every page) after t0."""
        return self.live.first_after(
            t0, lambda m: m.get("type") == "reload" and (m.get("all") or url in m.get("pages", [])), timeout)

    def __exit__(self, *exc):
        if self.live:
            self.live.close()
        stop(self.proc)


class MdbookServe:
    """`mdbook serve SITE -d DEST` on a free port, its live-reload WebSocket open, its watcher
    running (mdBook logs "Watching for changes" after its first scan); stopped on exit."""

    def __init__(self, mdbook, site, dest, timeout=7200):
        self.mdbook, self.site, self.dest, self.timeout = mdbook, site, dest, timeout
        self.proc = self.live = None
        self.watching = threading.Event()
        self.log = []
        # The first build (serve starts with a whole build into the empty dest): wall and CPU
        # seconds, peak RSS in MB, read when mdBook logs that the book is written.
        self.first_build = None

    def _read_log(self):
        for line in self.proc.stderr:
            self.log.append(line.rstrip())
            del self.log[:-50]
            if self.first_build is None and "HTML book written" in line:
                self.first_build = {"wall": time.perf_counter() - self.started, **process_usage(self.proc.pid)}
            if "Watching for changes" in line:
                self.watching.set()

    def __enter__(self):
        port = free_port()
        start = self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [self.mdbook, "serve", self.site, "-d", self.dest, "-n", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace",
            env=dict(os.environ, NO_COLOR="1"))
        threading.Thread(target=self._read_log, daemon=True).start()
        try:
            wait_listening(port, self.proc, self.timeout, "mdbook serve")
            self.port = port
            self.live = WebSocketLive(port)
            deadline = time.time() + self.timeout
            while not self.watching.wait(0.2):
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("mdbook serve is not watching:\n" + "\n".join(self.log))
            self.startup = time.perf_counter() - start
            # mdBook logs this line just before its first scan of the files; a file written
            # during that scan would count as the starting state. The poller then sleeps 1 s.
            time.sleep(2)
        except BaseException:
            stop(self.proc)
            raise
        return self

    def wait_reload(self, url, t0, timeout=7200):
        """Arrival time of the first "reload" after t0 (mdBook reloads every page).

        mdBook sends one message per connection and closes it; the reloaded page opens a new
        one, and so does this, ready for the next edit.
        """
        at = self.live.first_after(t0, lambda m: m == "reload", timeout)
        self.live.close()
        self.live = WebSocketLive(self.port)
        return at

    def __exit__(self, *exc):
        if self.live:
            self.live.close()
        stop(self.proc)


def pick_page(site):
    """An article in the middle of the site: (source folder, its path, its output URL)."""
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


def edit_latencies(server, page_path, url, edits, pause=(0.2, 1.0), seed=1, restore=True):
    """Appends a new line to page_path `edits` times; returns ms from each write to the reload.

    Between edits it waits a random time in `pause` (seconds), so the writes do not fall in step
    with a polling watcher. The page is restored afterwards (with restore=False only when
    something goes wrong: the caller restores it once the server is stopped).
    """
    rng = random.Random(seed)
    original = open(page_path, encoding="utf-8").read()
    latencies = []
    try:
        for i in range(edits):
            text = original + f"\n\nEdit number {i}: the preview must show this line.\n"
            t0 = time.perf_counter()
            with open(page_path, "w", encoding="utf-8") as f:
                f.write(text)
            at = server.wait_reload(url, t0)
            latencies.append((at - t0) * 1000)
            if i + 1 < edits:
                time.sleep(rng.uniform(*pause))
    except BaseException:
        restore = True
        raise
    finally:
        if restore:
            with open(page_path, "w", encoding="utf-8") as f:
                f.write(original)
    return latencies


def summary(latencies):
    return ("p50 {:.1f} ms  p90 {:.1f} ms  p99 {:.1f} ms  max {:.1f} ms  mean {:.1f} ms".format(
        percentile(latencies, 50), percentile(latencies, 90), percentile(latencies, 99),
        max(latencies), statistics.mean(latencies)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--site", required=True)
    ap.add_argument("--edits", type=int, default=100)
    ap.add_argument("--mode", choices=["body", "title", "new"], default="body")
    ap.add_argument("--pause", type=float, default=0.15, help="seconds between edits")
    ap.add_argument("--no-build", action="store_true", help="use target/release/helpbook as it is")
    ap.add_argument("--mdbook", action="store_true", help="also time body edits under `mdbook serve`")
    ap.add_argument("--mdbook-edits", type=int, default=5)
    args = ap.parse_args()

    binary = os.path.join(ROOT, "target", "release", "helpbook")
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    site = os.path.abspath(args.site)
    src, page_path, url = pick_page(site)
    original = open(page_path, encoding="utf-8").read()
    page_rel = os.path.relpath(page_path, src).replace(os.sep, "/")
    summary_path = os.path.join(src, "SUMMARY.md")
    summary_text = open(summary_path, encoding="utf-8").read() if os.path.exists(summary_path) else None

    latencies = []
    created = []
    extra = 0
    with HelpbookPreview(binary, site) as preview:
        live = preview.live
        seen = len(live.messages)
        rss0, _ = memory_mb(preview.proc.pid)
        try:
            for i in range(args.edits):
                if args.mode == "body":
                    text = original + f"\n\nEdit number {i}: the preview must show this line.\n"
                    target, want = page_path, url
                elif args.mode == "title":
                    text = re.sub(r"^title: .*$", f"title: Edited title {i}", original, count=1, flags=re.M)
                    if text == original:  # no front matter: the first heading is the title
                        text = re.sub(r"^# .*$", f"# Edited title {i}", original, count=1, flags=re.M)
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
                if args.mode == "new" and summary_text is not None:
                    # Listed next to the edited page, as a writer adds a page to a book.
                    lines = open(summary_path, encoding="utf-8").read().split("\n")
                    at = next(k for k, l in enumerate(lines) if l.rstrip().endswith("(" + page_rel + ")"))
                    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
                    lines.insert(at + 1, f"{indent}- [New page {i}]({rel})")
                    with open(summary_path, "w", encoding="utf-8") as f:
                        f.write("\n".join(lines))
                before = len(live.messages)
                matches = lambda m: m.get("type") == "reload" and (m.get("all") or want in m.get("pages", []))
                at, message, seen = live.wait(seen, matches)
                # A message still on its way from the previous edit does not count.
                while at < t0:
                    at, message, seen = live.wait(seen, matches)
                extra += len(live.messages) - before - 1
                latencies.append((at - t0) * 1000)
                time.sleep(args.pause)
            rss, hwm = memory_mb(preview.proc.pid)
        finally:
            with open(page_path, "w", encoding="utf-8") as f:
                f.write(original)
            if summary_text is not None:
                with open(summary_path, "w", encoding="utf-8") as f:
                    f.write(summary_text)
            for path in created:
                try:
                    os.remove(path)
                except OSError:
                    pass
            time.sleep(0.5)
        startup = preview.startup

    print(f"site: {site}  page edited: {url}  mode: {args.mode}  edits: {len(latencies)}")
    print(f"startup (build + index + listen): {startup:.2f} s")
    print("write -> reload message: " + summary(latencies))
    print(f"messages beyond one per edit: {extra + sum(1 for _ in live.messages[seen:])}")
    print(f"memory: {rss0:.0f} MB resident after start, {rss:.0f} MB after the edits, peak {hwm:.0f} MB")
    mdbook = shutil.which("mdbook")
    if args.mdbook and mdbook:
        dest = tempfile.mkdtemp(prefix="preview-bench-mdbook-")
        try:
            with MdbookServe(mdbook, site, dest) as serve:
                md = edit_latencies(serve, page_path, url, args.mdbook_edits)
                print(f"mdbook serve: startup {serve.startup:.1f} s; write -> reload: " + summary(md))
                print(f"helpbook's p50 is {percentile(md, 50) / percentile(latencies, 50):.0f}x faster")
        finally:
            shutil.rmtree(dest, ignore_errors=True)


if __name__ == "__main__":
    main()
