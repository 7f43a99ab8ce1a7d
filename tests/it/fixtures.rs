//! Whole fixture sites: an unchanged mdBook, a Chinese site, and the sample knowledge base.

use crate::support::{TestSite, content_of, messages};

#[test]
fn mdbook_builds_unchanged() {
    let site = TestSite::fixture("mdbook");
    let report = site.build_ok();
    let out = |rel: &str| {
        std::fs::read_to_string(site.root().join("book").join(rel))
            .unwrap_or_else(|e| panic!("{rel}: {e}"))
    };
    // build-dir from book.toml; README.md is the home page.
    let home = out("index.html");
    assert!(
        home.contains("<h1 id=\"introduction\">Introduction</h1>"),
        "{home}"
    );
    assert!(home.contains("href=\"guide/configuration.html#the-config-file\""));
    // SUMMARY order: numbered chapters, part titles, separators, draft chapters.
    assert!(home.contains("<li class=\"nav-part\">Running the platform</li>"));
    // The branch of the current page is expanded.
    assert!(!home.contains("1.1.</span> Configuration"), "{home}");
    assert!(
        out("guide/setup.html").contains("<span class=\"nav-number\">1.1.</span> Configuration")
    );
    assert!(home.contains(
        "<span class=\"nav-draft\"><span class=\"nav-number\">2.</span> Upgrades</span>"
    ));
    assert!(home.contains("nav-separator"));
    // Includes with line ranges and anchors.
    let setup = out("guide/setup.html");
    let body = content_of(&setup);
    assert!(body.contains("apt-get"), "{body}");
    assert!(!body.contains("echo done"), "{body}");
    let config = out("guide/configuration.html");
    assert!(content_of(&config).contains("max_bitrate_kbps"));
    assert!(!content_of(&config).contains("not shown"));
    // Links written as .html keep working.
    assert!(config.contains("href=\"setup.html\""));
    // Honoured [output.html] keys.
    assert!(
        config.contains("href=\"../theme-extra/custom.css\""),
        "{config}"
    );
    assert!(site.root().join("book/theme-extra/custom.css").exists());
    assert!(config.contains("https://git.example.org/ops/admin-book"));
    assert!(config.contains("edit/main/src/guide/configuration.md"));
    assert!(out("old/setup.html").contains("url=../guide/setup.html"));
    // Prev/next follow SUMMARY order.
    assert!(
        config.contains("rel=\"next\" href=\"../guide/commands.html\""),
        "{config}"
    );
    // Pages not in SUMMARY.md are not built (as in mdBook), so their broken links don't matter.
    assert!(!site.root().join("book/unlisted-fragment.html").exists());
    // What is ignored is said once.
    let notes = messages(&report);
    assert!(notes.contains("mathjax-support"), "{notes}");
    assert!(notes.contains("preprocessor.katex"), "{notes}");
    assert_eq!(notes.matches("mathjax-support").count(), 1);
}

#[test]
fn chinese_site_keeps_chinese_urls_anchors_and_interface() {
    let site = TestSite::fixture("chinese");
    site.build_ok();
    let home = site.output("index.html");
    assert!(home.contains("<html lang=\"zh-CN\">"));
    // Links to Chinese file names and anchors (percent-encoded in the href, as browsers expect).
    assert!(
        home.contains("href=\"troubleshooting/%E8%A7%86%E9%A2%91%E5%8D%A1%E9%A1%BF.html#%E6%A3%80%E6%9F%A5%E7%BD%91%E7%BB%9C\""),
        "{home}"
    );
    assert!(
        home.contains("<a href=\"常见问题.html\">常见问题</a>"),
        "{home}"
    );
    assert!(home.contains("本节内容"));
    let page = site.output("troubleshooting/视频卡顿.html");
    assert!(page.contains("<h2 id=\"检查网络\">"));
    assert!(page.contains("紧急程度: 紧急"), "{page}");
    assert!(page.contains("<li>视频很卡怎么办</li>"));
    assert!(page.contains("第 1 步</span> 检查网络"));
    assert!(page.contains("<p class=\"admonition-title\">警告</p>"));
    let faq = site.output("常见问题.html");
    assert!(faq.contains("<h2 id=\"学生需要安装软件吗\">"), "{faq}");
}

#[test]
fn sample_knowledge_base_builds_cleanly() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    let report = helpbook::build(&helpbook::BuildOptions {
        root: root.to_path_buf(),
        out_dir: Some(out.path().to_path_buf()),
        env: Vec::new(),
        ..Default::default()
    });
    assert!(!report.failed(), "{}", messages(&report));
    assert_eq!(report.warnings(), 0, "{}", messages(&report));
    let written = report.written.unwrap();
    assert!(written.pages >= 20, "only {} pages", written.pages);
    let read = |rel: &str| std::fs::read_to_string(out.path().join(rel)).unwrap();
    let page = read("troubleshooting/students-cant-hear-me.html");
    assert!(page.contains("badge-urgent"));
    let zh = read("zh/students-cant-hear-me.html");
    assert!(zh.contains("<html lang=\"zh-CN\">"));
    for lang in ["language-bash", "language-python", "language-javascript"] {
        assert!(read("api/rooms.html").contains(lang), "{lang}");
    }
}
