//! What the fuzzers found, replayed on stable Rust: every file under `fuzz/regressions/<target>/`
//! (an input that once crashed, hung or ran out of memory) and every seed under
//! `fuzz/corpus/<target>/` goes through the same `helpbook::fuzz` function as the fuzz target,
//! and must come back. A new crash becomes a test by dropping its input into the folder.

use std::path::{Path, PathBuf};

use helpbook::fuzz::{self, Fixture};

/// The inputs of `target`: regressions first, then seeds, sorted by name.
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let fuzz_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut out = Vec::new();
    for folder in ["regressions", "corpus"] {
        let dir = fuzz_dir.join(folder).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .map(|e| e.expect("read the folder").path())
            .filter(|p| p.is_file() && !is_note(p))
            .collect();
        paths.sort();
        for path in paths {
            let data = std::fs::read(&path).expect("read the input");
            out.push((path, data));
        }
    }
    assert!(!out.is_empty(), "no inputs for {target}");
    out
}

/// A file that describes the inputs beside it, not an input.
fn is_note(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "README.md")
}

/// Runs `run` on every input of `target`, naming the input before it runs (so a panic says
/// which) and what it gave after.
fn replay(target: &str, mut run: impl FnMut(&[u8]) -> Vec<String>) {
    for (path, data) in inputs(target) {
        eprintln!("replaying {}", path.display());
        let problems = run(&data);
        eprintln!("  {} problem(s)", problems.len());
        for p in problems {
            eprintln!("  {}", p.lines().next().unwrap_or(""));
        }
    }
}

#[test]
fn front_matter_inputs_come_back() {
    replay("front_matter", fuzz::front_matter);
}

#[test]
fn markdown_inputs_come_back() {
    let fixture = Fixture::new().unwrap();
    replay("markdown", |data| fixture.markdown(data));
}

#[test]
fn triage_tree_inputs_come_back() {
    let fixture = Fixture::new().unwrap();
    replay("triage_tree", |data| fixture.triage_tree(data));
}

#[test]
fn search_query_inputs_come_back() {
    let fixture = Fixture::new().unwrap();
    replay("search_query", |data| match fixture.search_query(data) {
        Ok(results) => results.results.into_iter().map(|hit| hit.url).collect(),
        Err(e) => vec![e],
    });
}

#[test]
fn a_page_including_itself_many_times_reports_each_include_once() {
    // 390 lines of `{{#include fuzz.md}}` in fuzz.md: each expanded the page again, whose 390
    // includes each failed, so the page read itself 152,100 times and reported as many errors
    // (over a minute in the fuzzer). Now each directive is one error.
    let data = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/markdown/self-include-390.md"),
    )
    .unwrap();
    let fixture = Fixture::new().unwrap();
    let problems = fixture.markdown(&data);
    assert_eq!(problems.len(), 390);
    assert!(
        problems
            .iter()
            .all(|p| p.contains("`fuzz.md` includes itself")),
        "{}",
        problems[0]
    );
}

#[test]
fn the_fuzz_harness_reports_what_a_build_reports() {
    // A harness that swallowed everything would fuzz nothing: its answers must be the build's.
    let not_utf8 = fuzz::front_matter(b"---\ntitle: Caf\xe9\n---\n");
    assert!(not_utf8[0].contains("not valid UTF-8"), "{not_utf8:?}");
    assert!(fuzz::front_matter(b"---\ntitle: A\n---\n# A\n").is_empty());

    let fixture = Fixture::new().unwrap();
    assert!(
        fixture
            .markdown(b"# Fine\n\n[Setup](setup.md#install)\n")
            .is_empty()
    );
    let broken = fixture.markdown(b"# Broken\n\n[Setup](setup.md#instal)\n{{#include nope.md}}\n");
    assert_eq!(broken.len(), 2, "{broken:?}");

    let tree = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/triage_tree/fixture-targets.yaml"),
    )
    .unwrap();
    let problems = fixture.triage_tree(&tree);
    assert!(
        problems.iter().any(|p| p.contains("leads back to `first`")),
        "{problems:?}"
    );

    let results = fixture.search_query("q=学生听不到".as_bytes()).unwrap();
    assert!(results.total > 0, "{results:?}");
    assert!(fixture.search_query(b"q=%FF").is_err());
}
