//! `helpbook check`: every rule fires at the right line on its fixture, nothing fires on a site
//! of near misses, levels come from book.toml, and nothing is written.
//!
//! Every folder under `tests/fixtures/check/` is a site with an `expected.txt`: one line per
//! finding, `rule|location|fragment`, where the location is a `path:line:col` prefix and the
//! fragment is part of the message or its help. A rule named there must report exactly those
//! findings (so each fixture also holds near misses that must not fire); `clean/` must report
//! nothing at all.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use helpbook::check::{CheckOptions, CheckReport, check};
use helpbook::content::Date;
use helpbook::diagnostic::Severity;

use crate::support::{FixtureCase, TestSite, fixture_cases, repo_root};

/// The day the fixtures' `updated` dates are measured from.
const TODAY: Date = Date {
    year: 2026,
    month: 11,
    day: 21,
};

fn run_check(site: &TestSite) -> CheckReport {
    check(&CheckOptions {
        root: site.root().to_path_buf(),
        env: Vec::new(),
        external: false,
        today: Some(TODAY),
    })
}

fn findings(report: &CheckReport) -> String {
    report
        .diagnostics
        .iter()
        .map(|d| format!("[{}] {d}", d.rule.map_or("-", |r| r.name())))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_rule_fires_on_its_fixture_at_its_line_and_nowhere_else() {
    let mut failures = Vec::new();
    for FixtureCase {
        name,
        site,
        expected,
    } in fixture_cases("check", 10)
    {
        let report = run_check(&site);
        if site.root().join("public").exists() {
            failures.push(format!("{name}: check wrote output"));
        }
        let mut rules: Vec<&str> = Vec::new();
        for line in expected.lines().filter(|l| !l.trim().is_empty()) {
            let mut parts = line.splitn(3, '|');
            let (rule, location, fragment) = (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap(),
            );
            rules.push(rule);
            let found = report.diagnostics.iter().any(|d| {
                d.rule.map(|r| r.name()) == Some(rule)
                    && (d.location() == location
                        || d.location().starts_with(&format!("{location}:")))
                    && (d.message.contains(fragment)
                        || d.help.as_deref().unwrap_or("").contains(fragment))
            });
            if !found {
                failures.push(format!(
                    "{name}: no `{rule}` finding `{fragment}` at `{location}`; got:\n{}",
                    findings(&report)
                ));
            }
        }
        for rule in rules
            .iter()
            .copied()
            .collect::<std::collections::BTreeSet<_>>()
        {
            let want = rules.iter().filter(|r| **r == rule).count();
            let got = report
                .diagnostics
                .iter()
                .filter(|d| d.rule.map(|r| r.name()) == Some(rule))
                .count();
            if got != want {
                failures.push(format!(
                    "{name}: {got} `{rule}` findings, expected {want}:\n{}",
                    findings(&report)
                ));
            }
        }
        if name == "clean" {
            let reported: Vec<_> = report
                .diagnostics
                .iter()
                .filter(|d| d.severity != Severity::Note)
                .collect();
            if !reported.is_empty() {
                failures.push(format!(
                    "clean: expected no findings, got:\n{}",
                    findings(&report)
                ));
            }
            if report.search_tests != Some((1, 1)) {
                failures.push(format!(
                    "clean: the search test did not run: {:?}",
                    report.search_tests
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_sample_site_passes_every_rule() {
    let report = check(&CheckOptions {
        today: Some(TODAY),
        ..CheckOptions::new(repo_root())
    });
    let reported: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity != Severity::Note)
        .map(ToString::to_string)
        .collect();
    assert!(reported.is_empty(), "{}", reported.join("\n"));
    let (passed, run) = report
        .search_tests
        .expect("the sample site has search tests");
    assert_eq!(passed, run);
    assert!(report.pages > 20, "{}", report.pages);
}

#[test]
fn levels_in_book_toml_decide_severity_and_exit_code() {
    let page = "---\ntitle: Lonely\n---\nNo description here.\n";
    let home = "---\ntitle: Home\ndescription: Start here.\n---\nSee [lonely](lonely.md).\n";
    // Default: a warning, and the check passes.
    let site = TestSite::new()
        .page("index.md", home)
        .page("lonely.md", page);
    let out = site.run(&["check"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("content/lonely.md:2:1"), "{stderr}");
    assert!(stderr.contains("no `description`"), "{stderr}");
    // --strict fails on warnings.
    let out = site.run(&["check", "--strict"]);
    assert_eq!(out.status.code(), Some(1));
    // `error` fails the check, and JSON says so.
    let site = site.file(
        "book.toml",
        "[check.rules]\nmissing-description = \"error\"\n",
    );
    let out = site.run(&["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["errors"], 1, "{json}");
    let finding = &json["findings"][0];
    assert_eq!(finding["rule"], "missing-description");
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["file"], "content/lonely.md");
    assert_eq!(finding["line"], 2);
    assert!(
        finding["help"]
            .as_str()
            .unwrap()
            .contains("description: No description here."),
        "{finding}"
    );
    // `off` turns the rule off.
    let site = site.file(
        "book.toml",
        "[check.rules]\nmissing-description = \"off\"\n",
    );
    let out = site.run(&["check", "--format", "json"]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["findings"].as_array().unwrap().len(), 0, "{json}");
}

#[test]
fn an_unknown_rule_in_book_toml_is_an_error_at_its_line() {
    let site = TestSite::new()
        .file(
            "book.toml",
            "[check.rules]\njargon = \"warn\"\norphan-pages = \"off\"\n",
        )
        .page("index.md", "# Home\n");
    let out = site.run(&["check"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("book.toml:3"), "{stderr}");
    assert!(stderr.contains("orphan-pages"), "{stderr}");
}

#[test]
fn check_reports_what_build_rejects_and_writes_nothing() {
    let site = TestSite::new()
        .page(
            "index.md",
            "---\ndescription: Home.\n---\n# Home\n\nSee [gone](gone.md).\n",
        )
        .page("bad.md", "---\ntitel: Typo\n---\nText.\n");
    let out = site.run(&["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let places: Vec<String> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{}:{}", f["file"].as_str().unwrap_or(""), f["line"]))
        .collect();
    assert!(places.contains(&"content/index.md:6".to_string()), "{json}");
    assert!(places.contains(&"content/bad.md:2".to_string()), "{json}");
    assert!(!site.root().join("public").exists());
}

/// A loopback HTTP server answering `/ok` with 200 and anything else with 404, counting the
/// requests for each path.
fn link_server() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
                    break;
                }
            }
            let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
            log.lock().unwrap().push(path.clone());
            let status = if path == "/ok" {
                "200 OK"
            } else {
                "404 Not Found"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    (addr, seen)
}

#[test]
fn external_links_are_checked_on_request_and_good_answers_cached() {
    let (addr, seen) = link_server();
    let site = TestSite::new()
        .file(
            "book.toml",
            "[check]\nexternal-timeout = 5\nexternal-host-delay = 0\n",
        )
        .page("index.md", "---\ndescription: Home.\n---\n# Home\n\nSee [links](links.md).\n")
        .page(
            "links.md",
            &format!(
                "---\ndescription: Links.\n---\n# Links\n\nThe [vendor guide](http://{addr}/ok#setup) helps.\n\nThe [old guide](http://{addr}/gone) moved.\n"
            ),
        );
    // Without --external no request is made.
    let out = site.run(&["check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(seen.lock().unwrap().is_empty());

    let out = site.run(&["check", "--external"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("content/links.md:8:17"), "{stderr}");
    assert!(stderr.contains("404"), "{stderr}");
    assert!(!stderr.contains("/ok"), "{stderr}");
    let count = |path: &str| seen.lock().unwrap().iter().filter(|p| *p == path).count();
    assert_eq!(count("/ok"), 1);
    assert_eq!(count("/gone"), 1);
    assert!(site.root().join(".helpbook/link-cache.json").exists());

    // A second run takes the good answer from the cache and asks again about the broken one.
    let out = site.run(&["check", "--external"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(count("/ok"), 1, "the good link was requested again");
    assert_eq!(count("/gone"), 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 from the cache"), "{stderr}");
}
