#!/usr/bin/env python3
"""Build benchmark: helpbook (and mdBook, when installed) on generated corpora.

Generates N-page sites with ../shared/bench/gen-synthetic.py (Markdown with front matter, code in
six languages, tables, 20% Chinese), builds each with the release binary a few times and prints
wall time (median), peak memory (max RSS) and time per page, side by side with `mdbook build`
when `mdbook` is on PATH. `helpbook check` (every build validation plus the content rules, no output
written) is timed on the same sites. Output folders are emptied before every run, so each run writes the
whole site from scratch.

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


def run_timed(cmd, cwd=None):
    """Runs cmd under /usr/bin/time; returns (wall seconds, peak RSS in MB)."""
    time_bin = "/usr/bin/time"
    if os.path.exists(time_bin):
        full = [time_bin, "-f", "%e %M"] + cmd
        start = time.perf_counter()
        proc = subprocess.run(full, cwd=cwd, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"command failed: {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")
        last = proc.stderr.strip().splitlines()[-1].split()
        return wall, int(last[1]) / 1024.0
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start, float("nan")


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
    ap.add_argument("--gen", default=os.path.join(ROOT, "..", "shared", "bench", "gen-synthetic.py"))
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
                ratio = f"{md['wall'] / hb['wall']:.1f}x faster"
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
