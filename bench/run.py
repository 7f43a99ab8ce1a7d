#!/usr/bin/env python3
"""helpbook against mdBook, side by side, on generated 1,000- and 10,000-page sites.

One command, on a fresh Linux machine with Rust, Python 3 and Node:

    python3 bench/run.py            # both sizes, writes BENCHMARKS.md and prints it
    python3 bench/run.py --quick    # 1,000 pages, fewer runs: checks the script in a few minutes

What it does:
  1. describes the machine (CPU, cores, memory, OS, file system, load, tool versions, commit);
  2. installs what is missing: mdBook (`cargo install mdbook --locked`), wrk (apt-get), and
     builds helpbook (`cargo build --release`);
  3. generates the sites with bench/gensite.py (mdBook layout, no front matter, 20 % Chinese);
  4. for each size, measures the two tools in turn (alternating run by run where it can):
     - build: wall time into an empty output folder (median of --runs), CPU time, peak memory
       (max RSS of the process, from the kernel's rusage), output and search index size;
     - search: helpbook's /api/search (`serve --production`, rate limit off, answer cache off
       and on) under wrk, against mdBook's own search code (searcher.js + elasticlunr + its
       searchindex) run in Node; both on one CPU core;
     - edit-to-reload: `helpbook serve` vs `mdbook serve`, from writing a changed page to the
       reload message on each preview's live-reload channel;
  5. writes BENCHMARKS.md (or --out) and prints it.

Every server it starts is stopped when it ends, also on Ctrl-C or SIGTERM. Only the standard
library is used; the pieces live in bench/build.py, bench/preview.py, bench/server.py,
bench/gensite.py and bench/mdbook_search.js, which also run on their own.
"""
import argparse
import atexit
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

# --- every process started from here (also inside the bench modules) is stopped at exit ------
_started = []


class _TrackedPopen(subprocess.Popen):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _started.append(self)


subprocess.Popen = _TrackedPopen


def _stop_all():
    for proc in _started:
        if proc.poll() is None:
            try:
                proc.terminate()
                proc.wait(timeout=10)
            except Exception:
                try:
                    proc.kill()
                except OSError:
                    pass


atexit.register(_stop_all)
for _sig in (signal.SIGTERM, signal.SIGHUP):
    signal.signal(_sig, lambda signum, frame: sys.exit(128 + signum))

import build as buildbench  # noqa: E402  (after the Popen hook, so their processes are tracked)
import gensite  # noqa: E402
import preview  # noqa: E402
import server  # noqa: E402

T0 = time.time()
LOADS = []


def log(message):
    LOADS.append(os.getloadavg()[0])
    elapsed = int(time.time() - T0)
    print(f"[{elapsed // 60:02d}:{elapsed % 60:02d}] {message}", file=sys.stderr, flush=True)


def output_of(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"


# --- the machine ---------------------------------------------------------------------------

def git_commit(root):
    """The commit checked out, read from .git (no git process needed)."""
    git = os.path.join(root, ".git")
    try:
        if os.path.isfile(git):  # a worktree: "gitdir: PATH"
            git = open(git).read().split(":", 1)[1].strip()
        head = open(os.path.join(git, "HEAD")).read().strip()
        if not head.startswith("ref: "):
            return head[:12]
        ref = head[5:]
        path = os.path.join(git, ref)
        if os.path.exists(path):
            return open(path).read().strip()[:12] + f" ({ref.rsplit('/', 1)[-1]})"
        commondir = os.path.join(git, "commondir")
        bases = [git] + ([os.path.join(git, open(commondir).read().strip())] if os.path.exists(commondir) else [])
        for base in bases:
            if os.path.exists(os.path.join(base, ref)):
                return open(os.path.join(base, ref)).read().strip()[:12]
            packed = os.path.join(base, "packed-refs")
            if os.path.exists(packed):
                for line in open(packed):
                    if line.strip().endswith(" " + ref):
                        return line.split()[0][:12] + f" ({ref.rsplit('/', 1)[-1]})"
    except (OSError, IndexError):
        pass
    return "unknown (not a git checkout)"


def filesystem_of(path):
    path = os.path.realpath(path)
    best, fstype = "", "unknown"
    try:
        for line in open("/proc/mounts"):
            parts = line.split()
            mount, kind = parts[1], parts[2]
            if (path == mount or path.startswith(mount.rstrip("/") + "/")) and len(mount) > len(best):
                best, fstype = mount, kind
    except OSError:
        pass
    return f"{fstype} ({best or '?'})"


def describe_machine(tools, workdir):
    cpu, flags = platform.processor() or "unknown", ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name") and cpu in ("unknown", "", platform.processor()):
                cpu = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = line
    except OSError:
        pass
    virtual = " (virtual machine)" if " hypervisor" in flags else ""
    mem = "unknown"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    os_name = platform.system()
    try:
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return [
        ("CPU", f"{cpu}{virtual}: {os.cpu_count()} logical CPUs"),
        ("Memory", mem),
        ("OS", f"{os_name}, Linux {platform.release()}"),
        ("File system of the sites and outputs", filesystem_of(workdir)),
        ("rustc", output_of(["rustc", "--version"])),
        ("helpbook", f"{output_of([tools['helpbook'], '--version'])}, commit {git_commit(ROOT)}, "
                     "`cargo build --release`"),
        ("mdBook", output_of([tools["mdbook"], "--version"])),
        ("Node (runs mdBook's search)", output_of([tools["node"], "--version"])),
        ("wrk (load for helpbook's search)", output_of([tools["wrk"], "-v"]).split(" Copyright")[0]),
        ("Python", platform.python_version()),
    ]


# --- installing what is missing ------------------------------------------------------------

def apt_install(package):
    if not shutil.which("apt-get"):
        sys.exit(f"{package} is missing and there is no apt-get: install {package} and run again")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    log(f"installing {package} with apt-get")
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", package], check=True)


def find_tools(args):
    tools = {}
    mdbook = args.mdbook or shutil.which("mdbook") or os.path.expanduser("~/.cargo/bin/mdbook")
    if not os.path.exists(mdbook):
        if args.no_install:
            sys.exit("mdbook is not installed (run without --no-install, or cargo install mdbook --locked)")
        log("installing mdBook: cargo install mdbook --locked")
        subprocess.run(["cargo", "install", "mdbook", "--locked"], check=True)
        mdbook = shutil.which("mdbook") or os.path.expanduser("~/.cargo/bin/mdbook")
    tools["mdbook"] = mdbook
    for name, package in [("wrk", "wrk"), ("node", "nodejs")]:
        found = shutil.which(name)
        if not found:
            if args.no_install:
                sys.exit(f"{name} is not installed")
            apt_install(package)
            found = shutil.which(name)
        tools[name] = found
    if not args.no_build:
        log("building helpbook: cargo build --release")
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    tools["helpbook"] = os.path.join(ROOT, "target", "release", "helpbook")
    if not os.path.exists(tools["helpbook"]):
        sys.exit("no target/release/helpbook: run without --no-build")
    return tools


# --- measurements --------------------------------------------------------------------------

def measure_builds(tools, site, work, n, runs_hb, runs_md, mdbook_serve=None):
    """Alternates helpbook and mdBook builds into empty folders; returns both results.

    With `mdbook_serve` (a function of the output folder returning the measures of a build),
    mdBook's builds are the first builds of `mdbook serve` instead of `mdbook build`.
    """
    hb_out = os.path.join(site, "public")  # where `serve --production` finds the build
    md_out = os.path.join(work, f"mdbook-out-{n}")
    hb_cmd = [tools["helpbook"], "build", site, "-d", hb_out, "--quiet"]
    md_cmd = [tools["mdbook"], "build", site, "-d", md_out]
    tools_runs = {
        "helpbook": (lambda: buildbench.run_measured(hb_cmd), hb_out, runs_hb),
        "mdbook": ((lambda: mdbook_serve(md_out)) if mdbook_serve else (lambda: buildbench.run_measured(md_cmd)),
                   md_out, runs_md),
    }
    samples = {name: [] for name in tools_runs}
    for i in range(max(runs_hb, runs_md)):
        for name, (run, out, runs) in tools_runs.items():
            if i >= runs:
                continue
            shutil.rmtree(out, ignore_errors=True)
            how = "serve (its first build)" if name == "mdbook" and mdbook_serve else "build"
            log(f"{n} pages: {name} {how}, run {i + 1} of {runs}")
            samples[name].append(run())
            log(f"  {samples[name][-1]['wall']:.2f} s, {samples[name][-1]['rss_mb']:.0f} MB")
    result = {}
    for name, (run, out, runs) in tools_runs.items():
        s = samples[name]
        if name == "helpbook":
            index = buildbench.dir_bytes(os.path.join(out, ".helpbook", "search"))
        else:
            index = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out)
                        if f.startswith("searchindex") and f.endswith((".js", ".json")))
        files = sum(len(fs) for _, _, fs in os.walk(out))
        result[name] = {
            "out": out,
            "runs": len(s),
            "via_serve": name == "mdbook" and mdbook_serve is not None,
            "wall": statistics.median(x["wall"] for x in s),
            "walls": [x["wall"] for x in s],
            "cpu": statistics.median(x["cpu"] for x in s),
            "rss_mb": max(x["rss_mb"] for x in s),
            "bytes": buildbench.dir_bytes(out),
            "files": files,
            "index": index,
        }
    return result


def pinning():
    """(server prefix, client prefix): one core for what is measured, another for the load."""
    if shutil.which("taskset") and len(os.sched_getaffinity(0)) >= 2:
        cpus = sorted(os.sched_getaffinity(0))
        return ["taskset", "-c", str(cpus[0])], ["taskset", "-c", str(cpus[1])]
    return [], []


def helpbook_search(tools, site, work, n, args):
    """wrk on /api/search: cache off, then on; one connection (latency), then several (q/s)."""
    server_cpu, client_cpu = pinning()
    paths = server.search_paths(limit=args.limit)
    lua = server.SEARCH_LUA % (paths, "false")
    out = {}
    for name, env in [("nocache", {"HELPBOOK_SERVER__SEARCH_CACHE": "0"}), ("cached", {})]:
        store = os.path.join(work, f"events-{n}-{name}.sqlite")
        with server.serve(tools["helpbook"], site, store, env, prefix=server_cpu) as port:
            if name == "nocache":
                answered = 0
                for q in server.QUERIES:
                    url = f"http://127.0.0.1:{port}/api/search?q={urllib.parse.quote_plus(q)}&limit={args.limit}"
                    with urllib.request.urlopen(url, timeout=60) as r:
                        answered += bool(json.load(r)["results"])
                out["answered"] = answered
            log(f"{n} pages: helpbook /api/search, cache {'off' if name == 'nocache' else 'on'}")
            server.run_wrk(port, lua, args.connections, max(2, args.duration // 3), prefix=client_cpu)
            one = server.parse(server.run_wrk(port, lua, 1, args.duration, prefix=client_cpu))
            many = server.parse(server.run_wrk(port, lua, args.connections, args.duration, prefix=client_cpu))
            for r in (one, many):
                if r["non2xx"] or r["socket_errors"]:
                    sys.exit(f"wrk saw errors on /api/search: {r}")
            out[name] = {"one": one, "many": many}
    return out


def mdbook_search(tools, md_out, work, args):
    server_cpu, _ = pinning()
    queries = os.path.join(work, "queries.json")
    with open(queries, "w", encoding="utf-8") as f:
        json.dump(server.QUERIES, f, ensure_ascii=False)
    cmd = server_cpu + [tools["node"], "--max-old-space-size=8192", os.path.join(HERE, "mdbook_search.js"),
                        md_out, queries, "--seconds", str(args.duration), "--min-rounds", "3"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit("mdBook's search in Node failed:\n" + proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def helpbook_reload(tools, site, n, edits):
    _, page, url = preview.pick_page(site)
    log(f"{n} pages: helpbook serve, {edits} edits of {os.path.relpath(page, site)}")
    with preview.HelpbookPreview(tools["helpbook"], site) as hb:
        return {"startup": hb.startup, "ms": preview.edit_latencies(hb, page, url, edits, seed=n)}


def mdbook_reload(tools, site, dest, n, edits):
    """`mdbook serve` into dest: its first build's measures, then `edits` saves of a page.

    The server is stopped before the page is restored, so no rebuild is cut short and dest
    holds a whole book (the one with the last edit) for the size and search measures.
    """
    _, page, url = preview.pick_page(site)
    original = open(page, encoding="utf-8").read()
    log(f"{n} pages: mdbook serve, then {edits} edit(s) (each rebuilds the whole book)")
    try:
        with preview.MdbookServe(tools["mdbook"], site, dest) as md:
            ms = preview.edit_latencies(md, page, url, edits, seed=n, restore=False) if edits else []
            first = md.first_build
            startup = md.startup
    finally:
        with open(page, "w", encoding="utf-8") as f:
            f.write(original)
    if ms:
        log(f"  mdbook serve: start {startup:.1f} s, reloads {', '.join(f'{x:.0f}' for x in ms)} ms")
    return {"startup": startup, "ms": ms, "first_build": first}


# --- the report ----------------------------------------------------------------------------

def fmt_num(x, digits=None):
    if x is None:
        return "—"
    if digits is None:
        digits = 0 if abs(x) >= 100 else 1 if abs(x) >= 10 else 2
    return f"{x:,.{digits}f}"


def mb(b):
    return b / 1e6


def fmt_ratio(r):
    """helpbook ÷ mdBook as a plain number: 0.32, 45.7, 1,207, or 1/25,450 when tiny."""
    if r >= 100:
        return f"{r:,.0f}"
    if r >= 0.01:
        return f"{r:.3g}"
    return f"1/{1 / r:,.0f}"


def times(x):
    """A multiplier for the words column: 3.1×, 52×, 1,207×."""
    return f"{x:,.0f}×" if x >= 10 else f"{x:.1f}×"


def ratio_cell(hb, md, lower_is_better=True):
    """helpbook ÷ mdBook, and what it means in words."""
    if hb is None or md is None or hb == 0 or md == 0:
        return "—", ""
    r = hb / md
    if lower_is_better:
        words = f"{times(md / hb)} faster" if r < 1 else f"{times(r)} slower"
    else:
        words = f"{times(r)} more" if r >= 1 else f"{times(md / hb)} fewer"
    return fmt_ratio(r), words


def size_words(hb, md):
    r = hb / md
    return fmt_ratio(r), (f"{times(md / hb)} smaller" if r < 1 else f"{times(r)} larger")


def mem_words(hb, md):
    r = hb / md
    return fmt_ratio(r), (f"{times(md / hb)} less" if r < 1 else f"{times(r)} more")


def fmt_ms(ms):
    """Milliseconds, or seconds from 10 s on."""
    return f"{ms / 1000:,.0f} s" if ms >= 10_000 else f"{fmt_num(ms)} ms"


def size_table(n, site_info, b, s, rl, args):
    hb, md = b["helpbook"], b["mdbook"]
    rows = []

    def row(label, hv, mv, ratio_words, unit=""):
        r, words = ratio_words if ratio_words else ("—", "")
        rows.append(f"| {label} | {hv}{unit} | {mv}{unit} | {r} | {words} |")

    mark = " (mdBook: `serve`'s first build)" if md.get("via_serve") else ""
    row(f"Build time, empty output folder (median of {hb['runs']} / {md['runs']}){mark}",
        fmt_num(hb["wall"]) + " s", fmt_num(md["wall"]) + " s", ratio_cell(hb["wall"], md["wall"]))
    row("CPU time of the build (user + system)", fmt_num(hb["cpu"]) + " s", fmt_num(md["cpu"]) + " s",
        ratio_cell(hb["cpu"], md["cpu"]))
    row("Peak memory of the build (max RSS)", fmt_num(hb["rss_mb"]) + " MB", fmt_num(md["rss_mb"]) + " MB",
        mem_words(hb["rss_mb"], md["rss_mb"]))
    row("Output folder", fmt_num(mb(hb["bytes"])) + " MB", fmt_num(mb(md["bytes"])) + " MB",
        size_words(hb["bytes"], md["bytes"]))
    row("Files in the output", f"{hb['files']:,}", f"{md['files']:,}", None)
    row("Search index (in the output)", fmt_num(mb(hb["index"])) + " MB", fmt_num(mb(md["index"])) + " MB",
        size_words(hb["index"], md["index"]))
    row("Search index a reader downloads before the first result", "0 MB (the server searches)",
        fmt_num(mb(s["mdbook"]["index_bytes"])) + " MB", None)
    row("Loading that index in the reader (parse + elasticlunr load)", "—",
        fmt_ms(s["mdbook"]["index_load_ms"]), None)
    nc, ca, js = s["helpbook"]["nocache"], s["helpbook"]["cached"], s["mdbook"]
    row(f"Search throughput, one core (helpbook: cache off, {args.connections} connections)",
        fmt_num(nc["many"]["rps"]) + " q/s", fmt_num(js["qps"]) + " q/s",
        ratio_cell(nc["many"]["rps"], js["qps"], lower_is_better=False))
    row("Search latency p50, one query at a time (cache off)", fmt_num(nc["one"]["p50"]) + " ms",
        fmt_num(js["p50"]) + " ms", ratio_cell(nc["one"]["p50"], js["p50"]))
    row("Search latency p99, one query at a time (cache off)", fmt_num(nc["one"]["p99"]) + " ms",
        fmt_num(js["p99"]) + " ms", ratio_cell(nc["one"]["p99"], js["p99"]))
    row(f"Search p99 under load ({args.connections} connections, cache off)", fmt_num(nc["many"]["p99"]) + " ms",
        "—", None)
    row(f"Search throughput with helpbook's answer cache ({args.connections} connections)",
        fmt_num(ca["many"]["rps"]) + " q/s", fmt_num(js["qps"]) + " q/s",
        ratio_cell(ca["many"]["rps"], js["qps"], lower_is_better=False))
    row("Search latency p99 with the cache, one query at a time", fmt_num(ca["one"]["p99"]) + " ms",
        fmt_num(js["p99"]) + " ms", ratio_cell(ca["one"]["p99"], js["p99"]))
    row(f"Queries with at least one result (of {len(server.QUERIES)})", str(s["helpbook"]["answered"]),
        str(js["answered"]), None)
    h = rl["helpbook"]
    m = rl.get("mdbook")
    hms, mms = h["ms"], (m["ms"] if m else None)
    row(f"Edit-to-reload p50 ({len(hms)} / {len(mms) if mms else 0} edits)",
        fmt_ms(preview.percentile(hms, 50)),
        fmt_ms(preview.percentile(mms, 50)) if mms else "not measured",
        ratio_cell(preview.percentile(hms, 50), preview.percentile(mms, 50)) if mms else None)
    row("Edit-to-reload p90", fmt_ms(preview.percentile(hms, 90)),
        fmt_ms(preview.percentile(mms, 90)) if mms else "not measured",
        ratio_cell(preview.percentile(hms, 90), preview.percentile(mms, 90)) if mms else None)
    row("Preview start (`serve` until it reloads pages)", fmt_num(h["startup"]) + " s",
        fmt_num(m["startup"]) + " s" if m else "not measured",
        ratio_cell(h["startup"], m["startup"]) if m else None)

    files, articles, zh, md_bytes = site_info
    about = textwrap.fill(
        f"{files:,} Markdown pages ({articles:,} articles, {zh:,} of them in Chinese, the rest section"
        f" pages), {md_bytes / 1e6:.1f} MB of Markdown. Edited page: `{rl['page']}`.", 100)
    head = (f"## {n:,} pages\n\n{about}\n\n"
            "| | helpbook | mdBook | helpbook ÷ mdBook | |\n|---|---:|---:|---:|---|\n")
    walls = "\n" + textwrap.fill(
        f"Build times of every run: helpbook {', '.join(f'{w:.2f}' for w in hb['walls'])} s; "
        f"mdBook {', '.join(f'{w:.2f}' for w in md['walls'])} s. "
        f"mdBook's search: {js['queries']:,} queries timed ({js['rounds']} rounds of the "
        f"{len(server.QUERIES)}); helpbook's: {nc['one']['requests']:,} one at a time and "
        f"{nc['many']['requests']:,} under load, cache off.", 100) + "\n"
    return head + "\n".join(rows) + "\n" + walls


METHOD = """\
## Method

`python3 bench/run.py` does all of this in one run; `--quick` does the 1,000-page site only,
with fewer runs, to check the script. Every number below comes from the run on this page.

- **Sites.** `bench/gensite.py` writes an mdBook book (`book.toml`, `src/SUMMARY.md`) shaped
  like a help center for an online-classroom product: sections of how-to, reference and FAQ
  articles with headings, lists, tables, fenced code in six languages, links between pages
  (some to headings), and 20 % of the articles in Chinese. The pages have no front matter
  (mdBook would print it as text), so both tools build exactly the same input, unchanged.
- **Build.** `helpbook build SITE -d OUT` and `mdbook build SITE -d OUT`, alternating
  (helpbook, mdBook, helpbook, …), the output folder deleted before every run; the median wall
  time is reported. Peak memory is the largest RSS of the process over the runs, from the
  kernel's rusage (`os.wait4`); CPU time is user + system of the process. Sources are in the
  page cache for both (they are read on every run).
- **Sizes.** Bytes of every file in the output folder, and of the search index in it:
  helpbook's tantivy index in `.helpbook/search/` (the server reads it; it is not served), and
  mdBook's `searchindex-*.js`, which every reader's browser downloads and parses.
- **Search.** The same {nq} queries for both (English, Chinese, typos, prefixes, a long
  question), asking for {limit} results as mdBook's search shows 30.
  helpbook: `helpbook serve --production` with `HELPBOOK_SERVER__RATE_LIMIT=0`, pinned to one
  CPU core (`taskset`); wrk, on the other core, sends `GET /api/search?q=…&limit={limit}` over
  HTTP on loopback, first one request at a time (latency: p50/p99 of every request), then
  over {conns} connections (throughput). Once with the answer cache off
  (`HELPBOOK_SERVER__SEARCH_CACHE=0`: every request runs the search), once with it on (the
  default; the 40 queries repeat, so nearly every answer comes from the cache).
  mdBook: its search runs in the reader's browser, so there is no server to load. Node runs the
  searcher code mdBook ships in the output (`searcher-*.js`, `elasticlunr-*.min.js` and
  `searchindex-*.js`, unchanged; `bench/mdbook_search.js` gives it a stub DOM), pinned to one
  core, typing each query into the search bar in turn: elasticlunr's search with the book's
  options and the teaser of each of the first 30 results, one query at a time — q/s is one
  over the mean, p50/p99 are of every query.
  **This compares unlike things on purpose:** a server answering over HTTP (time includes the
  request, the response and JSON) and an in-process JavaScript library (no network at all).
  What they share is what a reader waits for between a keystroke and the results, on one core;
  neither includes drawing the results.
- **Edit-to-reload.** Each tool's preview server runs on the site (`helpbook serve`,
  `mdbook serve` with its default poll watcher); the script connects to its live-reload channel
  the way the page does — helpbook's server-sent events at `/_helpbook/live`, mdBook's
  WebSocket at `/__livereload` — then appends a line to one article and measures from the
  moment the file is written to the moment the reload message arrives (helpbook: the message
  naming that page). A random 0.2–1 s pause between edits keeps the writes out of step with
  mdBook's 1-second polling. "Preview start" is from starting `serve` until it is ready to
  reload pages (mdBook: its first build done and its watcher running).
"""


def growth(results):
    """How build time grew from the smallest site to the largest, for both tools."""
    if len(results) < 2:
        return ""
    lo, hi = min(results), max(results)
    hb = results[hi]["build"]["helpbook"]["wall"] / results[lo]["build"]["helpbook"]["wall"]
    md = results[hi]["build"]["mdbook"]["wall"] / results[lo]["build"]["mdbook"]["wall"]
    return (f" From {lo:,} to {hi:,} pages ({hi / lo:.0f}× the pages) mdBook's build took {md:.0f}×"
            f" the time, helpbook's {hb:.1f}×.")


def lookup_share(results):
    """elasticlunr's lookup alone against the whole query, when the run measured it."""
    parts = [f"{r['search']['mdbook']['lookup_mean']:.1f} of {r['search']['mdbook']['mean']:.1f} ms"
             f" at {n:,} pages" for n, r in sorted(results.items()) if "lookup_mean" in r["search"]["mdbook"]]
    return f" elasticlunr's lookup alone takes {', '.join(parts)} (mean per query)." if parts else ""


def busy(cpus=None):
    return max(LOADS) > (cpus or os.cpu_count() or 1)


def busy_note():
    cpus = os.cpu_count() or 1
    load = (f"load average {min(LOADS):.1f}–{max(LOADS):.1f} during the run; {cpus}.0 means every"
            " core busy")
    if not busy():
        return (f"- **The machine was quiet** ({load}). Absolute times still vary from run to run;"
                " the alternation spreads that noise over both tools, so the ratios are the numbers"
                " to read.")
    return ("- **The machine was shared**: other work ran on the same cores during this run"
            f" ({load}). That inflates absolute times, unevenly; the alternation spreads the noise"
            " over both tools, so the ratios are the numbers to read. Tail latencies suffer most: a"
            " request of 1 ms that loses its core for a time slice waits many times its own cost,"
            " and an HTTP request needs two processes scheduled (wrk and the server) where the"
            " in-process search needs one, so helpbook's p99 on a busy machine is mostly waiting"
            " for a core (compare its p99 with the cache on, where the answer itself takes"
            " microseconds).")


def notes(results, args):
    lines = ["## What the numbers mean, and caveats", ""]
    big = [n for n in results if n > 2000]
    lines += [
        "- **Ratios** are helpbook ÷ mdBook: below 1 means helpbook takes less time, memory or space"
        " (the last column says it in words); for throughput above 1 means helpbook answers more.",
        busy_note(),
        "- **helpbook builds on every core** (rayon; the index is written while pages render);"
        " mdBook builds on one. CPU time shows the work done, wall time what a writer waits.",
        "- **mdBook's build grows faster than its page count**: each page's template data is a"
        " clone of the whole book's data, which holds the list of every chapter"
        " (`mdbook-html` 0.5, `hbs_renderer.rs`: `data: data.clone()` per chapter), so the time"
        " per page grows with the book." + growth(results),
        "- **mdBook's preview rebuilds the whole book on every save**, so its edit-to-reload time"
        " is its build time plus up to 1 s of polling. helpbook's preview keeps the site in memory"
        " and rebuilds the pages the save changes (about 20 ms of each reload is its watcher's"
        " quiet time, waiting for an editor's save to finish).",
        "- **Search is measured where each tool does it.** helpbook's number includes an HTTP round"
        " trip on loopback; a real reader adds their network's round trip to every helpbook search,"
        " and, for mdBook, the download of the whole index once (the size row) plus its load time"
        " (the row below it) before the first result. mdBook's search runs on the reader's"
        " device, which may be slower or faster than this core; helpbook's runs on the server,"
        " and its throughput is shared by every reader.",
        "- **The answers differ.** Both return their top 30; helpbook stems, understands Chinese"
        " (jieba) and forgives typos, elasticlunr splits on spaces and expands prefixes, so the"
        " result lists are not the same and the work per query differs. The row \"queries with"
        " at least one result\" shows the gap, not the ranking quality.",
        "- **mdBook's time per query includes its teasers**: for each of the 30 results shown it"
        " stems every word of the section's text." + lookup_share(results),
        "- **helpbook's output includes its index** (`.helpbook/search/`, read by the server, not"
        " served); mdBook's includes `print.html` (the whole book in one page), fonts and"
        " highlight.js.",
    ]
    if big:
        sizes = ", ".join(f"{n:,}" for n in big)
        if args.mdbook_runs_large == 0:
            how = ("its build figures are those of the first build of `mdbook serve` (the same"
                   " renderer writing the whole book into an empty folder; its pages also carry"
                   " the live-reload script), taken when mdBook logs that the book is written")
        else:
            how = f"`mdbook build` ran {args.mdbook_runs_large} time(s)"
        lines.append(
            f"- **At {sizes} pages mdBook was measured once**: each of its builds takes minutes"
            f" (see above), so {how}, and its preview was then saved"
            f" {'once' if args.mdbook_edits_large == 1 else f'{args.mdbook_edits_large} times'},"
            " each save another whole build; p50 and p90 of one save are that save. helpbook"
            " still had its full number of runs and edits.")
    lines.append("- The queries are in `bench/server.py` (`QUERIES`); the sites are deterministic"
                 " (seed 42), so another run builds byte-identical sources.")
    wrapped = [textwrap.fill(line, 100, subsequent_indent="  ") if line.startswith("- ") else line
               for line in lines]
    return "\n".join(wrapped) + "\n"


def write_report(path, machine, results, args, started, took):
    parts = [
        "# Benchmarks: helpbook and mdBook, side by side\n",
        textwrap.fill(
            f"Measured on {started:%Y-%m-%d} by `python3 bench/run.py{' --quick' if args.quick else ''}`"
            f" in {took / 60:.0f} minutes. Run it again on your machine to check these numbers; it"
            " installs what it needs (mdBook with `cargo install mdbook --locked`, wrk with apt-get),"
            " builds helpbook in release mode, generates the sites, measures and rewrites this file.",
            100) + "\n",
        "## Machine\n",
        "| | |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in machine)
        + f"\n| Load average (1 min) during the run | {min(LOADS):.1f} to {max(LOADS):.1f}"
        + (" (other work shared the machine)" if busy() else "") + " |\n",
    ]
    for n in sorted(results):
        r = results[n]
        parts.append(size_table(n, r["site"], r["build"], r["search"], r["reload"], args))
    parts.append(METHOD.format(nq=len(server.QUERIES), limit=args.limit, conns=args.connections))
    parts.append(notes(results, args))
    text = "\n".join(parts)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1,000 pages only, fewer runs (a check of the script)")
    ap.add_argument("--sizes", type=int, nargs="+", help="site sizes in pages (default 1000 10000)")
    ap.add_argument("--runs", type=int, help="build runs per tool (default 3; --quick 2)")
    ap.add_argument("--mdbook-runs-large", type=int, default=0,
                    help="mdBook build runs above 2,000 pages (default 0: each takes minutes, so its "
                         "figures come from the first build of `mdbook serve`, before the edits)")
    ap.add_argument("--edits", type=int, help="helpbook preview edits (default 30; --quick 5)")
    ap.add_argument("--mdbook-edits", type=int, help="mdBook preview edits up to 2,000 pages (default 7; --quick 2)")
    ap.add_argument("--mdbook-edits-large", type=int, default=1,
                    help="mdBook preview edits above 2,000 pages (default 1; 0 skips mdbook serve there)")
    ap.add_argument("--duration", type=int, help="seconds per search measurement (default 10; --quick 3)")
    ap.add_argument("--connections", type=int, default=8, help="wrk connections for throughput (default 8)")
    ap.add_argument("--limit", type=int, default=30, help="results per search (default 30, as mdBook shows)")
    ap.add_argument("--out", help="report path (default BENCHMARKS.md; --quick: target/BENCHMARKS-quick.md)")
    ap.add_argument("--workdir", help="where the sites and outputs go (default: a new temp folder, removed after)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--mdbook", help="mdbook binary (default: on PATH or ~/.cargo/bin)")
    ap.add_argument("--no-install", action="store_true", help="fail instead of installing mdBook, wrk or Node")
    ap.add_argument("--no-build", action="store_true", help="use target/release/helpbook as it is")
    ap.add_argument("--render", metavar="RUN_JSON",
                    help="only rewrite the report from a saved run (target/bench-run.json)")
    args = ap.parse_args()
    if args.render:
        saved = json.load(open(args.render))
        LOADS[:] = saved["loads"]
        out = args.out
        args = argparse.Namespace(**{**saved["args"], "render": None})
        results = {int(n): r for n, r in saved["results"].items()}
        path = out or os.path.join(ROOT, "target" if args.quick else "",
                                   "BENCHMARKS-quick.md" if args.quick else "BENCHMARKS.md")
        text = write_report(path, [tuple(m) for m in saved["machine"]], results, args,
                            datetime.datetime.fromisoformat(saved["started"]), saved["took"])
        print(text)
        return
    quick = args.quick
    args.sizes = args.sizes or ([1000] if quick else [1000, 10000])
    args.runs = args.runs or (2 if quick else 3)
    args.edits = args.edits or (5 if quick else 30)
    args.mdbook_edits = args.mdbook_edits if args.mdbook_edits is not None else (2 if quick else 7)
    args.duration = args.duration or (3 if quick else 10)
    out_path = args.out or os.path.join(ROOT, "target" if quick else "", "BENCHMARKS-quick.md" if quick else "BENCHMARKS.md")

    started = datetime.datetime.now()
    tools = find_tools(args)
    work = args.workdir or tempfile.mkdtemp(prefix="helpbook-vs-mdbook-")
    os.makedirs(work, exist_ok=True)
    machine = describe_machine(tools, work)
    print("\n".join(f"{k}: {v}" for k, v in machine), flush=True)
    log(f"work folder: {work}")
    results = {}
    try:
        for n in args.sizes:
            large = n > 2000
            site = os.path.join(work, f"site-{n}")
            log(f"{n} pages: generating the site")
            info = gensite.generate(site, n, front=False)
            rl = {"page": os.path.relpath(preview.pick_page(site)[1], site)}
            if large and args.mdbook_runs_large == 0:
                # mdBook takes minutes here: its build figures are the first build of
                # `mdbook serve`, which then goes on to the edits, instead of a separate build.
                def via_serve(dest):
                    rl["mdbook"] = mdbook_reload(tools, site, dest, n, args.mdbook_edits_large)
                    return rl["mdbook"]["first_build"]
                b = measure_builds(tools, site, work, n, args.runs, 1, mdbook_serve=via_serve)
            else:
                b = measure_builds(tools, site, work, n, args.runs,
                                   args.mdbook_runs_large if large else args.runs)
            s = {"helpbook": helpbook_search(tools, site, work, n, args)}
            log(f"{n} pages: mdBook's search in Node")
            s["mdbook"] = mdbook_search(tools, b["mdbook"]["out"], work, args)
            rl["helpbook"] = helpbook_reload(tools, site, n, args.edits)
            edits = args.mdbook_edits_large if large else args.mdbook_edits
            if "mdbook" not in rl and edits > 0:
                rl["mdbook"] = mdbook_reload(tools, site, os.path.join(work, f"mdbook-serve-{n}"), n, edits)
                shutil.rmtree(os.path.join(work, f"mdbook-serve-{n}"), ignore_errors=True)
            results[n] = {"site": info, "build": b, "search": s, "reload": rl}
            with open(os.path.join(work, f"results-{n}.json"), "w") as f:
                json.dump(results[n], f, indent=1, default=str)
            shutil.rmtree(b["mdbook"]["out"], ignore_errors=True)
    finally:
        _stop_all()
        if not args.keep and not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    LOADS.append(os.getloadavg()[0])
    took = time.time() - T0
    # Everything the report is made of, so that --render can rewrite it without measuring again.
    with open(os.path.join(ROOT, "target", "bench-run-quick.json" if quick else "bench-run.json"), "w") as f:
        json.dump({"machine": machine, "loads": LOADS, "args": vars(args), "started": started.isoformat(),
                   "took": took, "results": results}, f, indent=1, default=str)
    text = write_report(out_path, machine, results, args, started, took)
    print(text)
    log(f"wrote {out_path}")


if __name__ == "__main__":
    main()
