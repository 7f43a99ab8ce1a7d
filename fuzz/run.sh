#!/usr/bin/env bash
# Fuzzes helpbook with cargo-fuzz (libFuzzer): builds the targets, then runs each for SECONDS
# (default 60) from a scratch copy of its seed corpus, so the tree stays clean. (The regressions
# are left out: `cargo test` replays them, and a slow one would eat a short run.)
# Exits non-zero if any target crashed, hung (-timeout) or ran out of memory (-rss_limit_mb); the
# input is kept under fuzz/artifacts/<target>/ and printed. Turn it into a regression test by
# copying it to fuzz/regressions/<target>/ (tests/it/fuzz_regressions.rs replays that folder).
#
#   fuzz/run.sh [SECONDS] [TARGET...]      targets: front_matter markdown triage_tree search_query
#
# Uses the nightly toolchain with AddressSanitizer when rustup has one: it halves the executions
# per second, but the C the targets reach (oniguruma under syntect, zstd, SQLite) is built with it
# too. Otherwise stable with RUSTC_BOOTSTRAP=1 and no sanitizer (the sanitizers need nightly).
# FUZZ_SANITIZER (address | none) overrides the sanitizer. Installs cargo-fuzz if it is missing.
set -euo pipefail
cd "$(dirname "$0")"

seconds=${1:-60}
[ "$#" -gt 0 ] && shift
targets=("$@")
[ "${#targets[@]}" -eq 0 ] && targets=(front_matter markdown triage_tree search_query)

# Per target: longest input (bytes) and the dictionary.
declare -A max_len=([front_matter]=4096 [markdown]=8192 [triage_tree]=8192 [search_query]=512)
declare -A dict=([front_matter]=yaml [markdown]=markdown [triage_tree]=yaml [search_query]=search_query)
for t in "${targets[@]}"; do
  [ -n "${max_len[$t]:-}" ] || { echo "fuzz/run.sh: unknown target $t" >&2; exit 2; }
done

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

toolchain=()
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  toolchain=(+nightly)
  sanitizer=${FUZZ_SANITIZER:-address}
else
  # cargo-fuzz passes -Z flags; stable accepts them with RUSTC_BOOTSTRAP.
  export RUSTC_BOOTSTRAP=1
  sanitizer=${FUZZ_SANITIZER:-none}
fi
# The instrumented build takes 20-40 minutes cold on two cores: it is kept outside the checkout
# (FUZZ_TARGET_DIR overrides), so a fresh clone on the same machine, as CI's, rebuilds only
# what changed.
target_dir=${FUZZ_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/helpbook/fuzz-target}
mkdir -p "$target_dir"
# Release with debug assertions and overflow checks: an overflow is a bug worth a crash.
build_flags=(-O --debug-assertions -s "$sanitizer" --target-dir "$target_dir")

# The main crate's dependency versions (cargo adds libfuzzer-sys); fuzz/Cargo.lock is not kept.
cp ../Cargo.lock Cargo.lock
cargo "${toolchain[@]}" fuzz build "${build_flags[@]}"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# The targets' site fixtures go under the scratch folder, and go with it.
mkdir -p "$scratch/tmp"

failed=()
for t in "${targets[@]}"; do
  corpus="$scratch/corpus/$t"
  mkdir -p "$corpus" "artifacts/$t"
  cp corpus/"$t"/* "$corpus"/
  touch "$scratch/start"
  echo "== fuzz $t: ${seconds}s"
  if ! TMPDIR="$scratch/tmp" cargo "${toolchain[@]}" fuzz run "${build_flags[@]}" "$t" "$corpus" -- \
      -max_total_time="$seconds" -max_len="${max_len[$t]}" -timeout=10 -rss_limit_mb=2048 \
      -dict="dict/${dict[$t]}.dict" -print_final_stats=1; then
    failed+=("$t")
    find "artifacts/$t" -type f -newer "$scratch/start" | while read -r f; do
      echo "-- $t: input kept in fuzz/$f (base64):"
      base64 "$f"
    done
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz/run.sh: ${failed[*]} failed; see fuzz/artifacts/" >&2
  exit 1
fi
echo "fuzz/run.sh: no crashes in ${targets[*]} (${seconds}s each)"
