//! The `helpbook` binary: arguments, exit codes and what it prints.

use crate::support::TestSite;

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn build_prints_a_one_line_summary_and_exits_zero() {
    let site = TestSite::new().page("a.md", "# A\n").page("b.md", "# B\n");
    let out = site.run(&["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("Built 3 pages in "), "{text}");
    assert!(site.output_exists("a.html"));
}

#[test]
fn build_with_dir_and_dest() {
    let site = TestSite::new().page("sub/a.md", "# A\n");
    let out = site.run(&["build", ".", "-d", "elsewhere"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(site.root().join("elsewhere/sub/a.html").exists());
}

#[test]
fn content_errors_exit_non_zero_with_every_error() {
    let site = TestSite::new().page("a.md", "---\ntitel: x\n---\n[b](nope.md)\n");
    let out = site.run(&["build"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("content/a.md:2:1"), "{err}");
    assert!(err.contains("content/a.md:4:5"), "{err}");
    assert!(err.contains("build failed with 2 errors"), "{err}");
    assert!(!site.output_exists("a.html"));
}

#[test]
fn quiet_prints_nothing_on_success_and_verbose_prints_timings() {
    let site = TestSite::new().page("a.md", "# A\n");
    let quiet = site.run(&["--quiet", "build"]);
    assert!(quiet.status.success());
    assert!(stdout(&quiet).is_empty());
    let verbose = site.run(&["build", "--verbose"]);
    assert!(
        stdout(&verbose).contains("read + render Markdown"),
        "{}",
        stdout(&verbose)
    );
}

#[test]
fn help_is_available_everywhere() {
    let site = TestSite::new();
    for args in [&["--help"][..], &["build", "--help"], &["init", "--help"]] {
        let out = site.run(args);
        assert!(out.status.success());
        assert!(stdout(&out).contains("Usage:"), "{args:?}");
    }
    let bad = site.run(&["frobnicate"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn init_scaffolds_a_site_that_builds() {
    let site = TestSite::new();
    let out = site.run(&["init", "kb", "--title", "Our \"Help\""]);
    assert!(out.status.success(), "{}", stderr(&out));
    let build = site.run(&["build", "kb"]);
    assert!(build.status.success(), "{}", stderr(&build));
    let html = std::fs::read_to_string(site.root().join("kb/public/troubleshooting/no-sound.html"))
        .unwrap();
    assert!(html.contains("Nobody can hear me"));
    assert!(html.contains("Our &quot;Help&quot;"), "{html}");
    // The sample tree: its first question is linked from the home page, its fix is a page.
    let home = std::fs::read_to_string(site.root().join("kb/public/index.html")).unwrap();
    assert!(
        home.contains("href=\"triage/no-sound/index.html\""),
        "{home}"
    );
    assert!(
        site.root()
            .join("kb/public/triage/no-sound/others/others-can-only-i-cant.html")
            .is_file()
    );
    // It passes every rule of `check`, and its glossary has a page.
    let check = site.run(&["check", "kb", "--strict"]);
    assert!(check.status.success(), "{}", stderr(&check));
    assert!(site.root().join("kb/public/glossary.html").is_file());
    // A second init does not overwrite anything.
    let again = site.run(&["init", "kb"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("already has a book.toml"));
}
