//! The glossary: inline definitions where a page first uses a term, and the glossary page.

use crate::support::{TestSite, content_of, repo_root};

const GLOSSARY: &str = "\
- term: bitrate
  aliases: [bit rate]
  plain: How much video data is sent each second.
  instead: video quality
  zh:
    term: 码率
    plain: 每秒发送的视频数据量。
- term: TURN server
  plain: A relay that passes your video along when a network blocks direct connections.
";

fn site() -> TestSite {
    TestSite::new()
        .page("glossary.yaml", GLOSSARY)
        .page(
            "index.md",
            "# Home\n\nSee [the video guide](video.md) and [码率](zh/video.md).\n",
        )
        .page(
            "video.md",
            "# Blurry video\n\n## Lower the bitrate\n\nSee [bitrate settings](index.md). Use `bitrate=low`.\n\nLower the Bitrate in Settings. The bitrate matters.\n\nAsk IT about the TURN server, then turn server-side recording off.\n",
        )
        .page("zh/video.md", "---\nlang: zh\n---\n# 画面模糊\n\n调低码率，或者调低 bitrate。\n")
}

#[test]
fn the_first_use_of_a_term_in_prose_gets_an_inline_definition() {
    let site = site();
    site.build_ok();
    let html = site.output("video.html");
    let body = content_of(&html);
    // Once per page, on the first use in prose: not in the heading, the link or the code.
    assert_eq!(body.matches("class=\"term\"").count(), 2, "{body}");
    assert!(
        body.contains("<h2 id=\"lower-the-bitrate\">Lower the bitrate"),
        "{body}"
    );
    assert!(body.contains(">bitrate settings</a>"), "{body}");
    assert!(body.contains("<code>bitrate=low</code>"), "{body}");
    assert!(
        body.contains(
            "Lower the <span class=\"term\"><a class=\"term-link\" href=\"glossary.html#bitrate\" aria-describedby=\"glossary-def-bitrate\">Bitrate</a><span class=\"term-def\" role=\"tooltip\" id=\"glossary-def-bitrate\">How much video data is sent each second.</span></span> in Settings. The bitrate matters."
        ),
        "{body}"
    );
    // An acronym matches as written.
    assert!(
        body.contains("href=\"glossary.html#turn-server\""),
        "{body}"
    );
    assert!(
        body.contains("then turn server-side recording off"),
        "{body}"
    );
}

#[test]
fn no_term_link_inside_links_controls_or_tables() {
    let site = TestSite::new().page("glossary.yaml", GLOSSARY).page(
        "index.md",
        "# Home\n\nA <a\nhref=\"https://example.com\">bitrate</a> link and a <button>TURN server</button>.\n\n| Setting | Value |\n|---|---|\n| bitrate | low |\n\nLater the bitrate is defined.\n",
    );
    site.build_ok();
    let html = site.output("index.html");
    let body = content_of(&html);
    assert_eq!(body.matches("class=\"term\"").count(), 1, "{body}");
    assert!(body.contains("<button>TURN server</button>"), "{body}");
    assert!(body.contains("<td>bitrate</td>"), "{body}");
    assert!(body.contains("Later the <span class=\"term\">"), "{body}");
}

#[test]
fn chinese_pages_define_terms_in_chinese() {
    let site = site();
    site.build_ok();
    let body = site.output("zh/video.html");
    assert!(
        body.contains("href=\"../glossary.html#bitrate\" aria-describedby=\"glossary-def-bitrate\">码率</a><span class=\"term-def\" role=\"tooltip\" id=\"glossary-def-bitrate\">每秒发送的视频数据量。</span>"),
        "{body}"
    );
    // The English spelling on the same page is the same term, already defined.
    assert_eq!(body.matches("class=\"term\"").count(), 1, "{body}");
}

#[test]
fn the_glossary_page_lists_every_term_in_both_languages_and_is_searchable() {
    let site = site();
    site.build_ok();
    let html = site.output("glossary.html");
    let body = content_of(&html);
    assert!(body.contains("<h2 id=\"bitrate\">bitrate"), "{body}");
    assert!(
        body.contains("<h2 id=\"turn-server\">TURN server"),
        "{body}"
    );
    assert!(
        body.contains("How much video data is sent each second."),
        "{body}"
    );
    assert!(
        body.contains("<p lang=\"zh-CN\"><strong>码率</strong>：每秒发送的视频数据量。</p>"),
        "{body}"
    );
    assert!(body.contains("In plain words: “video quality”"), "{body}");
    // No page links to itself through its own terms.
    assert!(!body.contains("class=\"term\""), "{body}");
    // It is in the navigation of every page.
    assert!(site.output("video.html").contains("href=\"glossary.html\""));
    let out = site.run(&["search", "--format", "json", "what", "is", "bitrate"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let urls: Vec<&str> = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["url"].as_str())
        .collect();
    assert!(
        urls.iter().any(|u| u.starts_with("/glossary.html")),
        "{urls:?}"
    );
}

#[test]
fn a_page_at_the_glossary_url_is_an_error() {
    let site = site().page("glossary.md", "# My glossary\n");
    let report = site.build();
    assert!(report.failed());
    assert!(
        report
            .diagnostics
            .iter()
            .any(|d| d.location() == "content/glossary.yaml"
                && d.message.contains("written over `glossary.md`")),
        "{:?}",
        report.diagnostics
    );
}

#[test]
fn the_sample_glossary_covers_the_classroom_terms_in_both_languages() {
    let text = std::fs::read_to_string(repo_root().join("content/glossary.yaml")).unwrap();
    for term in [
        "bitrate",
        "码率",
        "frame rate",
        "帧率",
        "bandwidth",
        "latency",
        "echo cancellation",
        "TURN server",
    ] {
        assert!(
            text.contains(term),
            "{term} is missing from the sample glossary"
        );
    }
}
