#!/usr/bin/env python3
"""Build benchmark: helpbook (and mdBook, when installed) on generated corpora.

Generates N-page sites with bench/gensite.py (Markdown with front matter, code in six
languages, tables, 20% Chinese), builds each with the release binary a few times and prints
wall time (median), peak memory (max RSS) and time per page, side by side with `mdbook build`
when `mdbook` is on PATH. `helpbook check` (every build validation plus the content rules, no output
written) is timed on the same sites. Output folders are emptied before every run, so each run writes the
whole site from scratch.

For the side-by-side comparison with mdBook that BENCHMARKS.md reports, run bench/run.py; this
script is the quick loop for helpbook's own build (and `check`) while working on it.

Usage:
  bench/build.py [--pages 1000 10000] [--runs 3] [--out-root target/bench] [--no-build]
                 [--gen PATH] [--tmpfs] [--mdbook-max-pages 2000]

--tmpfs writes the output to /dev/shm, which separates CPU work from the file system's cost
(creating ~10,000 files on ext4 costs more than a second of kernel time on these machines).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_measured(cmd, cwd=None, env=None):
    """Runs cmd; returns its wall time (s), CPU time (user + system, s) and peak RSS (MB).

    CPU time and peak come from the kernel's rusage of the child (os.wait4), so no
    /usr/bin/time is needed and the figures mean the same whichever tool is measured.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    # Read the output before waiting, so a chatty tool cannot block on a full pipe.
    output = proc.stdout.read()
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{output.decode(errors='replace')}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024.0}


def run_timed(cmd, cwd=None):
    """Runs cmd; returns (wall seconds, peak RSS in MB)."""
    r = run_measured(cmd, cwd=cwd)
    return r["wall"], r["rss_mb"]


def dir_bytes(path, skip=None):
    """Bytes of the files under path (apparent size, not blocks); `skip` names a subfolder."""
    total = 0
    for dirpath, dirnames, files in os.walk(path):
        if skip and os.path.abspath(dirpath) == os.path.abspath(path):
            dirnames[:] = [d for d in dirnames if d != skip]
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_size
            except OSError:
                pass
    return total


def measure(name, make_cmd, out_dir, runs):
    walls, mems = [], []
    for _ in range(runs):
        shutil.rmtree(out_dir, ignore_errors=True)
        wall, mem = run_timed(make_cmd())
        walls.append(wall)
        mems.append(mem)
    return {"name": name, "wall": statistics.median(walls), "min": min(walls), "mem": max(mems)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out-root", default=os.path.join(ROOT, "target", "bench"))
    ap.add_argument("--gen", default=os.path.join(ROOT, "bench", "gensite.py"))
    ap.add_argument("--no-build", action="store_true", help="use the existing release binary")
    ap.add_argument("--tmpfs", action="store_true", help="write output to /dev/shm")
    ap.add_argument("--mdbook-max-pages", type=int, default=2000,
                    help="skip mdbook above this size (it takes minutes at 10,000 pages)")
    args = ap.parse_args()

    if not os.path.exists(args.gen):
        sys.exit(f"corpus generator not found: {args.gen} (pass --gen)")
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    helpbook = os.path.join(ROOT, "target", "release", "helpbook")
    mdbook = shutil.which("mdbook")
    os.makedirs(args.out_root, exist_ok=True)
    out_base = "/dev/shm/helpbook-bench" if args.tmpfs else args.out_root

    print(f"machine: {os.cpu_count()} cores; output on {'tmpfs' if args.tmpfs else 'disk'}; "
          f"median of {args.runs} runs")
    print(f"{'pages':>7} {'tool':<9} {'wall s':>8} {'min s':>7} {'peak MB':>8} {'ms/page':>8} {'vs mdBook':>10}")
    rows = []
    for n in args.pages:
        site = os.path.join(args.out_root, f"syn-{n}")
        if not os.path.exists(os.path.join(site, "book.toml")):
            subprocess.run([sys.executable, args.gen, site, "--pages", str(n), "--force"],
                           check=True, capture_output=True)
        out = os.path.join(out_base, f"out-helpbook-{n}")
        hb = measure("helpbook", lambda: [helpbook, "build", site, "-d", out, "--quiet"], out, args.runs)
        ck = measure("check", lambda: [helpbook, "check", site, "--format", "json"], out, args.runs)
        md = None
        if mdbook and n <= args.mdbook_max_pages:
            mout = os.path.join(out_base, f"out-mdbook-{n}")
            md = measure("mdbook", lambda: [mdbook, "build", site, "-d", mout], mout, 1 if n > 2000 else args.runs)
        for r in [hb, ck] + ([md] if md else []):
            ratio = ""
            if md and r is hb:
                r = md["wall"] / hb["wall"]
                ratio = f"{r:.1f}x faster" if r >= 1 else f"{1 / r:.1f}x slower"
            print(f"{n:>7} {r['name']:<9} {r['wall']:>8.2f} {r['min']:>7.2f} {r['mem']:>8.0f} "
                  f"{1000 * r['wall'] / n:>8.3f} {ratio:>10}")
        rows.append((n, hb))
        shutil.rmtree(out, ignore_errors=True)
    if len(rows) > 1:
        (n0, a), (n1, b) = rows[0], rows[-1]
        growth = (b["wall"] / a["wall"]) / (n1 / n0)
        print(f"time growth from {n0} to {n1} pages: {b['wall'] / a['wall']:.1f}x for {n1 / n0:.0f}x the pages "
              f"(1.0 = linear: {growth:.2f})")
    if not mdbook:
        print("mdbook not on PATH: install it (cargo install mdbook) for side-by-side numbers")


if __name__ == "__main__":
    main()
