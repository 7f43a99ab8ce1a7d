//! Search: what a reader types, what they get. Real tantivy indexes on disk, built by the builder.

use helpbook::content::{Audience, Kind};
use helpbook::search::{SearchIndex, SearchRequest, SearchResults};
use helpbook::{BuildOptions, build};

use crate::support::{Server, TestSite, messages, sample_site};

fn search(index: &SearchIndex, query: &str) -> SearchResults {
    index.search(&SearchRequest {
        query: query.into(),
        limit: 10,
        ..SearchRequest::default()
    })
}

fn urls(results: &SearchResults) -> Vec<&str> {
    results.results.iter().map(|h| h.url.as_str()).collect()
}

/// The page part of the first result's URL.
fn first_page(results: &SearchResults) -> &str {
    results
        .results
        .first()
        .map_or("", |h| h.url.split('#').next().unwrap())
}

fn indexed(site: &TestSite) -> SearchIndex {
    site.build_ok();
    SearchIndex::open_output(&site.root().join("public")).expect("index opens")
}

fn troubleshooting(title: &str, symptoms: &str, body: &str) -> String {
    format!(
        "---\ntitle: {title}\nkind: troubleshooting\naudience: teacher\nsymptoms: [{symptoms}]\n---\n\n{body}\n"
    )
}

/// Every query in content/search-tests.yaml of the sample site finds its page: the writers'
/// regression suite runs in `cargo test`. Prints MRR@10 and the zero-result rate.
#[test]
fn sample_site_search_tests_pass() {
    let site = sample_site();
    let report = build(&BuildOptions {
        root: site.root().to_path_buf(),
        check_search: true,
        ..Default::default()
    });
    assert!(!report.failed(), "{}", messages(&report));
    let tests = report
        .search_tests
        .expect("the sample site has search tests");
    let zh = tests
        .outcomes
        .iter()
        .filter(|o| {
            o.test
                .query
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
        })
        .count();
    eprintln!(
        "sample site: {} search tests ({zh} with Chinese), MRR@10 {:.3}, zero-result rate {:.1}%",
        tests.outcomes.len(),
        tests.mrr_at_10(),
        tests.zero_result_rate() * 100.0
    );
    assert!(tests.outcomes.len() >= 30, "at least 30 tests");
    assert!(zh >= 10, "Chinese tests: {zh}");
    assert_eq!(tests.passed(), tests.outcomes.len());
    assert!(tests.mrr_at_10() >= 0.85, "MRR@10 {}", tests.mrr_at_10());
    assert_eq!(tests.zero_result_rate(), 0.0);
}

/// A second corpus, written for this test and never used to tune ranking, so the measure is not
/// fitted to the sample content.
#[test]
fn held_out_corpus_quality() {
    let site = TestSite::fixture("search-eval");
    let report = build(&BuildOptions {
        root: site.root().to_path_buf(),
        check_search: true,
        ..Default::default()
    });
    let tests = report.search_tests.as_ref().expect("the corpus has tests");
    eprintln!(
        "held-out corpus: {} queries, {} within their top N, MRR@10 {:.3}, zero-result rate {:.1}%",
        tests.outcomes.len(),
        tests.passed(),
        tests.mrr_at_10(),
        tests.zero_result_rate() * 100.0
    );
    assert!(tests.outcomes.len() >= 40);
    assert!(tests.mrr_at_10() >= 0.8, "{}", messages(&report));
    assert!(
        tests.passed() * 10 >= tests.outcomes.len() * 9,
        "{}",
        messages(&report)
    );
    assert_eq!(tests.zero_result_rate(), 0.0);
}

#[test]
fn chinese_question_finds_the_chinese_page() {
    let site = TestSite::new()
        .page(
            "zh/laggy.md",
            "---\ntitle: 视频卡顿\nlang: zh\n---\n\n## 快速解决\n\n视频卡顿时，先关掉摄像头三十秒，再暂停家里其他下载。\n",
        )
        .page("audio.md", "# No sound\n\nCheck the microphone.\n")
        .page("video.md", "# Video settings\n\nChoose the camera resolution.\n");
    let index = indexed(&site);
    // A raw QueryParser phrase finds nothing for this: no page contains the whole question.
    let r = search(&index, "视频很卡怎么办");
    assert_eq!(first_page(&r), "/zh/laggy.html", "{r:#?}");
    assert!(r.results[0].snippet.contains("<mark>"), "{r:#?}");
    // Two characters jieba would split differently still find it through bigrams.
    let r = search(&index, "频卡");
    assert_eq!(first_page(&r), "/zh/laggy.html", "{r:#?}");
}

#[test]
fn mixed_script_queries() {
    let site = TestSite::new()
        .page(
            "zh/rc-arc.md",
            "---\ntitle: Rc 和 Arc 的区别\nlang: zh\n---\n\nRc 只能在单线程里共享所有权；Arc 用原子计数，可以跨线程。\n",
        )
        .page(
            "zh/trait.md",
            "---\ntitle: trait 对象\nlang: zh\n---\n\n用 `dyn Trait` 写 trait 对象，在运行时分发方法调用。\n",
        )
        .page("en/threads.md", "# Threads\n\nSpawn threads with std::thread.\n");
    let index = indexed(&site);
    assert_eq!(
        first_page(&search(&index, "Rc 和 Arc 区别")),
        "/zh/rc-arc.html"
    );
    assert_eq!(first_page(&search(&index, "trait 对象")), "/zh/trait.html");
}

#[test]
fn typos_prefixes_and_the_fuzzy_fallback() {
    let site = TestSite::new()
        .page(
            "recording.md",
            &troubleshooting(
                "Recording is missing",
                "recording not listed",
                "Open Recordings after class.",
            ),
        )
        .page(
            "mic.md",
            "# Microphone\n\nChoose the microphone in Settings.\n",
        )
        .page("other.md", "# Whiteboard\n\nDraw on the whiteboard.\n");
    let index = indexed(&site);

    let r = search(&index, "recrding");
    assert_eq!(
        first_page(&r),
        "/recording.html",
        "one letter missing: {r:#?}"
    );
    assert!(r.fuzzy, "the reader is told these are close matches");
    assert_eq!(r.reason_code, Some("fuzzy"));

    let r = search(&index, "recodring");
    assert_eq!(
        first_page(&r),
        "/recording.html",
        "two letters swapped count as one edit"
    );

    let r = search(&index, "microphnoe setings");
    assert_eq!(first_page(&r), "/mic.html", "{r:#?}");

    // Search as you type: the last word is a prefix until a space follows it.
    let r = search(&index, "microp");
    assert_eq!(first_page(&r), "/mic.html", "{r:#?}");
    assert!(!r.fuzzy, "a word being typed is not a typo");
    assert!(
        r.results[0].snippet.contains("<mark>microphone</mark>"),
        "{r:#?}"
    );

    // Three letters are too few for typo tolerance: no wild guesses.
    let r = search(&index, "xyz ");
    assert!(r.results.is_empty(), "{r:#?}");
    assert_eq!(r.reason_code, Some("no-match"));
}

#[test]
fn synonyms_connect_the_readers_words_to_the_page() {
    let page = troubleshooting(
        "Students report silence",
        "muted microphone",
        "Unmute in the toolbar.",
    );
    let without = TestSite::new()
        .page("muted.md", &page)
        .page("x.md", "# Other\n\nText.\n");
    let index = indexed(&without);
    assert!(search(&index, "没声音").results.is_empty());

    let with = TestSite::new()
        .page("muted.md", &page)
        .page("x.md", "# Other\n\nText.\n")
        .page("synonyms.yaml", "- [no sound, muted, 没声音]\n");
    let index = indexed(&with);
    assert_eq!(first_page(&search(&index, "没声音")), "/muted.html");
    assert_eq!(
        first_page(&search(&index, "no sound at all")),
        "/muted.html"
    );
    assert!(
        !with.output_exists("synonyms.yaml"),
        "data files are not published"
    );
}

#[test]
fn ranking_follows_field_weights_and_groups_sections() {
    let site = TestSite::new()
        .page("title.md", "# Whiteboard\n\nDrawing tools for class.\n")
        .page("body.md", "# Tools\n\nThe whiteboard is one of the tools.\n")
        .page("code.md", "# API\n\n```json\n{\"whiteboard\": true}\n```\n")
        .page(
            "long.md",
            "# Long page\n\n## One\n\nwhiteboard whiteboard\n\n## Two\n\nwhiteboard\n\n## Three\n\nwhiteboard\n",
        );
    let index = indexed(&site);
    let r = search(&index, "whiteboard ");
    let pages: Vec<&str> = urls(&r)
        .iter()
        .map(|u| u.split('#').next().unwrap())
        .collect();
    assert_eq!(pages[0], "/title.html", "title beats body: {pages:?}");
    assert_eq!(
        pages.last(),
        Some(&"/code.html"),
        "code counts least: {pages:?}"
    );
    assert_eq!(
        r.total, 4,
        "one result per page, however many sections match"
    );
    let long = r
        .results
        .iter()
        .find(|h| h.url.starts_with("/long.html"))
        .unwrap();
    assert_eq!(long.url, "/long.html#one", "the best section's anchor");
    assert_eq!(long.section, "One");
}

#[test]
fn filters_by_kind_and_audience() {
    let site = TestSite::new()
        .page("fix.md", &troubleshooting("Camera fix", "camera black", "Camera steps."))
        .page("ref.md", "---\ntitle: Camera API\nkind: reference\naudience: developer\n---\n\nCamera endpoint.\n")
        .page("all.md", "---\ntitle: Camera basics\naudience: everyone\n---\n\nCamera overview.\n");
    let index = indexed(&site);
    let r = index.search(&SearchRequest {
        query: "camera".into(),
        limit: 10,
        kind: Some(Kind::Reference),
        ..SearchRequest::default()
    });
    assert_eq!(urls(&r), ["/ref.html"]);
    let r = index.search(&SearchRequest {
        query: "camera".into(),
        limit: 10,
        audience: Some(Audience::Teacher),
        ..SearchRequest::default()
    });
    let mut got = urls(&r);
    got.sort();
    assert_eq!(
        got,
        ["/all.html", "/fix.html"],
        "pages for everyone qualify"
    );
}

#[test]
fn snippets_are_escaped_except_the_marks() {
    let site = TestSite::new().page(
        "xss.md",
        "# Embed\n\nPaste `<script>alert(1)</script>` into the embed box & save.\n",
    );
    let index = indexed(&site);
    let r = search(&index, "embed script");
    let snippet = &r.results[0].snippet;
    assert!(!snippet.contains("<script"), "{snippet}");
    assert!(snippet.contains("&lt;<mark>script</mark>&gt;"), "{snippet}");
    assert!(snippet.contains("&amp;"), "{snippet}");
    let tags: Vec<&str> = snippet
        .match_indices('<')
        .map(|(i, _)| &snippet[i..i + 6])
        .collect();
    assert!(
        tags.iter()
            .all(|t| t.starts_with("<mark>") || t.starts_with("</mark")),
        "{tags:?}"
    );
}

#[test]
fn any_input_gets_results_or_a_reason() {
    let index = indexed(&sample_site());
    let long = "no sound ".repeat(1200);
    let cases: Vec<(&str, Option<&str>)> = vec![
        ("", Some("empty-query")),
        ("   ", Some("empty-query")),
        ("?!…—", Some("no-words")),
        ("😀🎉", Some("no-words")),
        ("\"unbalanced quote", None),
        ("AND OR NOT", None),
        ("field:title (echo", None),
        ("Chrome 没声音", None),
        (long.as_str(), None),
        ("\u{0}\u{1b}[31m", None),
    ];
    for (query, code) in cases {
        let r = search(&index, query);
        if let Some(code) = code {
            assert_eq!(r.reason_code, Some(code), "{query:?}: {r:#?}");
            assert!(r.reason.as_deref().is_some_and(|s| !s.is_empty()));
        } else {
            assert!(
                !r.results.is_empty() || r.reason.is_some(),
                "{query:?} gets results or a reason"
            );
        }
        assert!(r.query.chars().count() <= helpbook::search::MAX_QUERY_CHARS);
    }
    // The long query still searches (cut to its first words).
    assert!(!search(&index, &long).results.is_empty());
}

#[test]
fn index_lives_hidden_in_the_output_and_can_be_turned_off() {
    let site = TestSite::new().page("a.md", "# A\n\nText.\n");
    let report = site.build_ok();
    let stats = report.index.expect("indexed");
    assert!(site.output_exists(".helpbook/search/helpbook.json"));
    assert_eq!(stats.pages, 1);
    assert!(stats.bytes > 0);

    let off = TestSite::new()
        .file("book.toml", "[search]\nenable = false\n")
        .page("a.md", "# A\n\nText.\n");
    let report = off.build_ok();
    assert!(report.index.is_none());
    assert!(!off.output_exists(".helpbook/search"));
}

#[test]
fn a_rebuild_replaces_the_index() {
    let site = TestSite::new()
        .page("a.md", "# Alpha\n\nText.\n")
        .page("b.md", "# Bravo\n\nText.\n");
    let index = indexed(&site);
    assert_eq!(first_page(&search(&index, "bravo")), "/b.html");
    drop(index);
    std::fs::remove_file(site.root().join("content/b.md")).unwrap();
    let index = indexed(&site);
    assert!(search(&index, "bravo").results.is_empty());
    assert_eq!(index.pages(), 1);
}

#[test]
fn failing_search_test_is_reported_at_its_line() {
    let site = TestSite::new()
        .page("echo.md", &troubleshooting("Echo", "hear myself", "Use headphones."))
        .page("other.md", "# Whiteboard\n\nDraw.\n")
        .page(
            "search-tests.yaml",
            "# tests\n- query: hear myself\n  expect: echo.md\n- query: hear myself\n  expect: other.md\n  top: 1\n- query: draw\n  expect: gone.md\n",
        );
    let out = site.run(&["build", "--check-search"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("search-tests.yaml:4:1"), "{stderr}");
    assert!(
        stderr.contains("search test failed: “hear myself” should find “Whiteboard”"),
        "{stderr}"
    );
    assert!(stderr.contains("first results: “Echo”"), "{stderr}");
    assert!(stderr.contains("search-tests.yaml:7:1"), "{stderr}");
    assert!(
        stderr.contains("`gone.md`, which is not a page"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("search-tests.yaml:2:1"),
        "the passing test is quiet: {stderr}"
    );
    assert!(!site.output_exists("search-tests.yaml"));
}

#[test]
fn broken_synonyms_file_is_an_error_at_its_line() {
    let site = TestSite::new()
        .page("a.md", "# A\n")
        .page("synonyms.yaml", "- [a, b]\n- {x: 1}\n");
    let report = site.build();
    assert!(report.failed());
    let m = messages(&report);
    assert!(m.contains("synonyms.yaml:2:"), "{m}");
}

#[test]
fn cli_json_is_one_object_with_site_relative_urls() {
    let site = sample_site();
    // No build first: `search` builds the index itself.
    let out = site.run(&[
        "search",
        "--format",
        "json",
        "--limit",
        "3",
        "students can't hear me",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let v: serde_json::Value =
        serde_json::from_str(stdout.trim()).expect("exactly one JSON object");
    assert_eq!(v["query"], "students can't hear me");
    assert!(v["total"].as_u64().unwrap() >= 1);
    let results = v["results"].as_array().unwrap();
    assert!(!results.is_empty() && results.len() <= 3);
    for r in results {
        for key in ["url", "title", "section", "snippet", "kind"] {
            assert!(r[key].is_string(), "{key} in {r}");
        }
        assert!(r["score"].is_number());
        assert!(r["url"].as_str().unwrap().starts_with('/'));
    }
    assert_eq!(
        results[0]["url"].as_str().unwrap().split('#').next(),
        Some("/troubleshooting/students-cant-hear-me.html")
    );

    let out = site.run(&["search", "--kind", "reference", "webhook signature"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("[reference]") && !text.contains("[troubleshooting]"),
        "{text}"
    );

    let out = site.run(&["search", "--kind", "bogus", "x"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn server_answers_search_api_and_renders_results_without_javascript() {
    let site = sample_site();
    let server = Server::start(site.root());

    let (status, ctype, body) = server.get("/api/search?q=echo&limit=2");
    assert_eq!(status, 200, "{body}");
    assert!(ctype.starts_with("application/json"), "{ctype}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(v["results"].as_array().unwrap().len() <= 2);
    assert!(v["results"][0]["url"].as_str().unwrap().contains("echo"));

    let (status, _, body) = server.get("/api/search?q=%E8%A7%86%E9%A2%91%E5%BE%88%E5%8D%A1");
    assert_eq!(status, 200);
    assert!(body.contains("/zh/video-frozen-or-laggy.html"), "{body}");

    for bad in [
        "/api/search?q=x&kind=bogus",
        "/api/search?q=x&limit=many",
        "/api/search?q=x&audience=aliens",
    ] {
        let (status, _, body) = server.get(bad);
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body.contains("\"error\""), "{body}");
    }
    let (status, _, body) = server.get("/api/search?q=%FF%FE");
    assert!(
        status == 400 || status == 200,
        "invalid UTF-8 is never a 500: {status} {body}"
    );

    let (status, ctype, page) =
        server.get("/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E+echo&kind=troubleshooting");
    assert_eq!(status, 200);
    assert!(ctype.starts_with("text/html"));
    assert!(!page.contains("<script>alert(1)"), "the query is escaped");
    assert!(
        page.contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt; echo\" data-search-query")
    );
    assert!(page.contains("<option value=\"troubleshooting\" selected>"));
    assert!(
        page.contains("class=\"search-result-link\" href=\"troubleshooting/echo-or-feedback.html"),
        "{page}"
    );

    let (status, _, page) = server.get("/search?q=");
    assert_eq!(status, 200);
    assert!(page.contains("search-summary"));

    let (status, _, page) = server.get("/troubleshooting/echo-or-feedback.html");
    assert_eq!(status, 200);
    assert!(
        page.contains("class=\"site-search\""),
        "every page has the search box"
    );

    for hidden in [
        "/.helpbook/search/helpbook.json",
        "/%2ehelpbook/search/helpbook.json",
        "/x/../.helpbook/search/helpbook.json",
        "/%2Ehelpbook/search/helpbook.json%FF",
    ] {
        let (status, _, _) = server.get(hidden);
        assert_eq!(status, 404, "{hidden}");
    }
    let (status, _, page) = server.get("/no/such/page.html");
    assert_eq!(status, 404);
    assert!(page.contains("<h1>"), "the site's 404 page");
    assert_eq!(server.get("/healthz").0, 200);
}

#[test]
fn non_utf8_synonyms_file_is_reported_at_the_bad_byte() {
    let site = TestSite::new()
        .page("a.md", "# A\n")
        .file("content/synonyms.yaml", b"- [a, b]\n- [caf\xe9, coffee]\n");
    let report = site.build();
    assert!(report.failed());
    let m = messages(&report);
    assert!(m.contains("synonyms.yaml:2:"), "{m}");
    assert!(m.contains("not valid UTF-8"), "{m}");
}

/// The index is written while pages load: drafts stay out of it, and a build that fails leaves
/// the previous index as it was, with no half-written index beside it.
#[test]
fn drafts_are_not_indexed_and_a_failed_build_keeps_the_old_index() {
    let site = TestSite::new()
        .page(
            "audio.md",
            "# Microphone check\n\nTest the microphone before class.\n",
        )
        .page(
            "wip.md",
            "---\ndraft: true\n---\n# Microphone secrets\n\nUnfinished microphone notes.\n",
        );
    let index = indexed(&site);
    assert_eq!(urls(&search(&index, "microphone")), ["/audio.html"]);
    drop(index);

    let site = site.page(
        "broken.md",
        "# Broken\n\nSee [the missing page](missing.md).\n",
    );
    let report = site.build();
    assert!(report.failed(), "a broken link fails the build");
    let hidden = site.root().join("public/.helpbook");
    let mut leftovers: Vec<String> = std::fs::read_dir(&hidden)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    leftovers.sort();
    assert_eq!(
        leftovers,
        ["pages.json", "search", "triage.json"],
        "only the finished index, the page list and the trees remain"
    );
    let index = SearchIndex::open_output(&site.root().join("public")).expect("old index opens");
    assert_eq!(urls(&search(&index, "microphone")), ["/audio.html"]);
    assert!(search(&index, "broken").results.is_empty());
}
