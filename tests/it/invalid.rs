//! Broken sites: each must fail with its specific error at the right place.
//!
//! Every folder under `tests/fixtures/invalid/` is a site with an `expected.txt`: one line per
//! error that must be reported, `location|message fragment`, where the location is the
//! diagnostic's `path:line:col` prefix (as much of it as the line gives; empty for none).

use crate::support::{FixtureCase, TestSite, fixture_cases, messages};

#[test]
fn every_invalid_fixture_fails_with_its_error_at_its_line() {
    let mut failures = Vec::new();
    for FixtureCase {
        name,
        site,
        expected,
    } in fixture_cases("invalid", 15)
    {
        let report = site.build();
        if !report.failed() {
            failures.push(format!("{name}: the build succeeded"));
            continue;
        }
        if site.root().join("public").exists() {
            failures.push(format!("{name}: output was written for a failed build"));
        }
        for line in expected.lines().filter(|l| !l.trim().is_empty()) {
            let (location, fragment) = line.split_once('|').unwrap();
            let found = report.diagnostics.iter().any(|d| {
                d.is_error()
                    && d.to_string().contains(fragment)
                    && (d.location() == location
                        || d.location().starts_with(&format!("{location}:")))
            });
            if !found {
                failures.push(format!(
                    "{name}: no error `{fragment}` at `{location}`; got:\n{}",
                    messages(&report)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn non_utf8_page_is_reported_by_name_and_place() {
    // "Caf\xe9" is Latin-1: the é byte is not UTF-8.
    let site = TestSite::new()
        .page("ok.md", "# OK\n")
        .file("content/latin1.md", b"# Menu\n\nCaf\xe9 au lait\n");
    let report = site.build();
    assert!(report.failed());
    let d = report
        .diagnostics
        .iter()
        .find(|d| d.message.contains("UTF-8"))
        .unwrap_or_else(|| panic!("{}", messages(&report)));
    assert_eq!(d.location(), "content/latin1.md:3:4");
    assert!(d.help.as_deref().unwrap().contains("UTF-8"));
}

#[test]
fn non_utf8_book_toml_is_reported() {
    let site = TestSite::new()
        .file("book.toml", b"[book]\ntitle = \"Caf\xe9\"\n")
        .page("a.md", "# A\n");
    let report = site.build();
    assert!(report.failed());
    assert!(
        messages(&report).contains("book.toml: error: not valid UTF-8"),
        "{}",
        messages(&report)
    );
}

#[test]
fn errors_are_reported_together_with_snippets() {
    let site = TestSite::fixture("invalid/many-errors-at-once");
    std::fs::remove_file(site.root().join("expected.txt")).unwrap();
    let report = site.build();
    assert_eq!(report.errors(), 4, "{}", messages(&report));
    let rendered = report.diagnostics[0].render(false);
    assert!(rendered.contains("titel: A"), "{rendered}");
}
