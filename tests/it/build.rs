//! Building sites: what a reader finds in the output.

use crate::support::{TestSite, content_of, messages};

#[test]
fn page_is_written_with_its_text_and_title() {
    let site = TestSite::new()
        .file("book.toml", "[book]\ntitle = \"Class Help\"\n")
        .page("index.md", "---\ntitle: Home\n---\nWelcome.\n")
        .page(
            "guides/share-screen.md",
            "---\ntitle: Share your screen\ndescription: Show slides to the class.\n---\nClick **Share screen**.\n",
        );
    site.build_ok();
    let html = site.output("guides/share-screen.html");
    assert!(
        html.contains("<title>Share your screen · Class Help</title>"),
        "{html}"
    );
    assert!(html.contains("<h1>Share your screen</h1>"));
    assert!(html.contains("Click <strong>Share screen</strong>."));
    assert!(html.contains("<meta name=\"description\" content=\"Show slides to the class.\">"));
}

#[test]
fn title_comes_from_first_heading_without_front_matter() {
    let site = TestSite::new().page("notes.md", "# Release notes\n\nText.\n");
    site.build_ok();
    let html = site.output("notes.html");
    assert!(
        html.contains("<h1 id=\"release-notes\">Release notes</h1>"),
        "{html}"
    );
    // The heading is shown once, as the page title.
    assert_eq!(html.matches("Release notes</h1>").count(), 1);
}

#[test]
fn relative_md_links_become_output_urls() {
    let site = TestSite::new()
        .page(
            "guides/a.md",
            "See [rooms](../api/rooms.md#create-a-room) and [b](b.md).\n",
        )
        .page("guides/b.md", "# B\n")
        .page("api/rooms.md", "# Rooms\n\n## Create a room\n");
    site.build_ok();
    let html = site.output("guides/a.html");
    assert!(
        html.contains("href=\"../api/rooms.html#create-a-room\""),
        "{html}"
    );
    assert!(html.contains("href=\"../guides/b.html\""), "{html}");
}

#[test]
fn folder_navigation_sidebar_breadcrumbs_and_pager() {
    let site = TestSite::new()
        .page("index.md", "# Home\n")
        .page(
            "troubleshooting/index.md",
            "---\ntitle: Fix a problem\nweight: 1\n---\n",
        )
        .page(
            "troubleshooting/echo.md",
            "---\ntitle: Echo\nkind: troubleshooting\nseverity: normal\n---\n",
        )
        .page(
            "troubleshooting/no-sound.md",
            "---\ntitle: No sound\nkind: troubleshooting\nseverity: urgent\n---\n",
        )
        .page("guides/index.md", "---\ntitle: Guides\nweight: 2\n---\n")
        .page("guides/setup.md", "---\ntitle: Setup\n---\n");
    site.build_ok();
    let html = site.output("troubleshooting/echo.html");
    let sidebar = &html[html.find("nav-tree").unwrap()..];
    // Urgent problems sort first.
    let urgent = sidebar.find(">No sound").expect("no sound in sidebar");
    let normal = sidebar.find(">Echo").expect("echo in sidebar");
    assert!(urgent < normal);
    assert!(html.contains("aria-current=\"page\">Echo"), "{html}");
    // Breadcrumbs lead home and to the section.
    assert!(html.contains("<li><a href=\"../troubleshooting/index.html\">Fix a problem</a></li>"));
    // Reading order: section, no sound, echo, guides...
    assert!(
        html.contains("rel=\"prev\" href=\"../troubleshooting/no-sound.html\""),
        "{html}"
    );
    assert!(
        html.contains("rel=\"next\" href=\"../guides/index.html\""),
        "{html}"
    );
    // The other section is listed but not expanded.
    assert!(html.contains(">Guides</a>"));
    assert!(!html.contains(">Setup</a>"));
    // The section page lists its pages.
    let section = site.output("troubleshooting/index.html");
    assert!(section.contains("class=\"cards\""));
    assert!(section.contains(">No sound</a>"));
}

#[test]
fn section_lists_only_children_its_text_does_not_link() {
    let site = TestSite::new()
        .page(
            "fix/index.md",
            "# Fixes\n\nStart with [no sound](no-sound.md).\n",
        )
        .page("fix/no-sound.md", "# No sound\n")
        .page("fix/echo.md", "# Echo\n");
    site.build_ok();
    let html = site.output("fix/index.html");
    let list = &html[html.find("class=\"cards\"").expect("a list")..];
    assert!(list.contains(">Echo</a>"));
    assert!(!list.contains(">No sound</a>"));
}

#[test]
fn folders_without_index_get_a_generated_section_page() {
    let site = TestSite::new().page("api/rooms.md", "# Rooms\n");
    site.build_ok();
    let section = site.output("api/index.html");
    assert!(section.contains("<h1>Api</h1>"), "{section}");
    assert!(section.contains("href=\"../api/rooms.html\""));
    assert!(site.output_exists("index.html"));
}

#[test]
fn assets_are_copied_and_hidden_files_are_not() {
    let site = TestSite::new()
        .page("guide.md", "![Toolbar](img/toolbar.svg)\n")
        .file(
            "content/img/toolbar.svg",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
        )
        .file("content/.secret", "x")
        .file(
            "content/triage/tree.yaml",
            "id: x\ntitle: X\nstart: a\nnodes:\n  a:\n    question: Q?\n    options:\n      - { label: A, answer: Do this. }\n",
        );
    site.build_ok();
    assert!(site.output_exists("img/toolbar.svg"));
    assert!(!site.output_exists(".secret"));
    assert!(!site.output_exists("triage/tree.yaml"));
    assert!(
        site.output("guide.html")
            .contains("src=\"img/toolbar.svg\"")
    );
}

#[test]
fn aliases_write_redirect_pages() {
    let site = TestSite::new().page(
        "guides/audio.md",
        "---\ntitle: Audio\naliases: [old/sound.html, legacy/]\n---\n",
    );
    site.build_ok();
    let redirect = site.output("old/sound.html");
    assert!(redirect.contains("url=../guides/audio.html"), "{redirect}");
    assert!(
        site.output("legacy/index.html")
            .contains("../guides/audio.html")
    );
}

#[test]
fn drafts_are_left_out_unless_asked_for() {
    let site = TestSite::new()
        .page("ready.md", "# Ready\n")
        .page("wip.md", "---\ntitle: WIP\ndraft: true\n---\n");
    site.build_ok();
    assert!(!site.output_exists("wip.html"));
    let site = site.file("book.toml", "[build]\ndrafts = true\n");
    site.build_ok();
    assert!(site.output("wip.html").contains("badge-draft"));
}

#[test]
fn link_to_a_draft_says_so() {
    let site = TestSite::new()
        .page("ready.md", "See [wip](wip.md).\n")
        .page("wip.md", "---\ndraft: true\n---\n");
    let report = site.build();
    assert!(report.failed());
    assert!(messages(&report).contains("draft"), "{}", messages(&report));
}

#[test]
fn sitemap_and_404() {
    let site = TestSite::new()
        .file(
            "book.toml",
            "[build]\nbase-url = \"https://help.example.com/docs\"\n",
        )
        .page("a.md", "---\nupdated: 2026-11-01\n---\n# A\n");
    site.build_ok();
    let sitemap = site.output("sitemap.xml");
    assert!(
        sitemap.contains(
            "<loc>https://help.example.com/docs/a.html</loc><lastmod>2026-11-01</lastmod>"
        ),
        "{sitemap}"
    );
    let not_found = site.output("404.html");
    assert!(
        not_found.contains("href=\"/docs/_helpbook/style.css\""),
        "{not_found}"
    );
    assert!(not_found.contains("Page not found"));
}

#[test]
fn site_theme_overrides_a_template() {
    let site = TestSite::new()
        .page("a.md", "---\nkind: faq\n---\n# A\n")
        .file(
            "theme/templates/faq.html",
            "{% extends \"base.html\" %}{% block main %}<p class=\"custom\">{{ page.title }}</p>{% endblock main %}",
        )
        .file("theme/static/logo.svg", "<svg/>");
    site.build_ok();
    assert!(site.output("a.html").contains("<p class=\"custom\">A</p>"));
    assert!(site.output_exists("_helpbook/logo.svg"));
    assert!(site.output_exists("_helpbook/style.css"));
}

#[test]
fn template_syntax_error_is_reported() {
    let site = TestSite::new()
        .page("a.md", "# A\n")
        .file("theme/templates/page.html", "{% if %}");
    let report = site.build();
    assert!(report.failed());
    assert!(
        messages(&report).contains("template"),
        "{}",
        messages(&report)
    );
}

#[test]
fn environment_overrides_config() {
    let site = TestSite::new()
        .file("book.toml", "[book]\ntitle = \"From file\"\n")
        .page("a.md", "# A\n");
    let report = helpbook::build(&helpbook::BuildOptions {
        root: site.root().to_path_buf(),
        out_dir: None,
        env: vec![("HELPBOOK_BOOK__TITLE".into(), "From env".into())],
        ..Default::default()
    });
    assert!(!report.failed());
    assert!(site.output("a.html").contains("A · From env"));
}

#[test]
fn troubleshooting_pages_show_severity_symptoms_and_numbered_steps() {
    let site = TestSite::new().page(
        "no-sound.md",
        "---\ntitle: Students can't hear me\nkind: troubleshooting\nseverity: urgent\nsymptoms: [no sound, muted]\n---\n## Quick fix\n\nUnmute.\n\n## Check the microphone\n\n## Check the browser\n\n## Still not working?\n",
    );
    site.build_ok();
    let html = site.output("no-sound.html");
    assert!(html.contains("badge-urgent"), "{html}");
    assert!(html.contains("Severity: Urgent"));
    assert!(html.contains("<li>no sound</li>"));
    assert!(html.contains("<span class=\"step-number\">Step 1</span> Check the microphone"));
    assert!(html.contains("<span class=\"step-number\">Step 2</span> Check the browser"));
    assert!(!html.contains("Step 3"));
}

#[test]
fn reference_pages_have_a_table_of_contents() {
    let site = TestSite::new().page(
        "api/rooms.md",
        "---\ntitle: Rooms\nkind: reference\n---\n## List rooms\n\n## Create a room\n\n### Parameters\n",
    );
    site.build_ok();
    let html = site.output("api/rooms.html");
    assert!(html.contains("class=\"toc\""));
    assert!(html.contains("<a href=\"#create-a-room\">Create a room</a>"));
    assert!(html.contains("toc-level-3"));
}

#[test]
fn code_blocks_are_highlighted_with_classes_and_have_a_copy_button() {
    let site = TestSite::new().page(
        "api.md",
        "```python\nimport requests\n```\n\n```klingon\nqapla'\n```\n",
    );
    site.build_ok();
    let html = site.output("api.html");
    assert!(
        html.contains("<code class=\"language-python\"><span class=\"hl-"),
        "{html}"
    );
    assert!(
        html.contains("<code class=\"language-klingon\">qapla&#39;\n</code>"),
        "{html}"
    );
    assert_eq!(html.matches("class=\"copy-code\"").count(), 2);
    let css = site.output("_helpbook/highlight.css");
    assert!(css.contains("prefers-color-scheme: dark"));
}

#[test]
fn chinese_pages_get_chinese_interface_strings() {
    let site = TestSite::new()
        .file("book.toml", "[book]\nlanguage = \"en\"\n")
        .page(
            "zh/no-sound.md",
            "---\ntitle: 学生听不到我的声音\nlang: zh\nkind: troubleshooting\n---\n## 检查麦克风\n\n> [!TIP]\n> 先检查静音按钮。\n",
        );
    site.build_ok();
    let html = site.output("zh/no-sound.html");
    assert!(html.contains("<html lang=\"zh-CN\">"));
    assert!(html.contains("<h2 id=\"检查麦克风\">"), "{html}");
    assert!(html.contains("第 1 步"));
    assert!(html.contains("<p class=\"admonition-title\">提示</p>"));
    assert!(html.contains("跳到正文"));
}

#[test]
fn broken_links_can_be_warnings() {
    let site = TestSite::new()
        .file("book.toml", "[build]\nbroken-links = \"warn\"\n")
        .page("a.md", "[gone](gone.md)\n");
    let report = site.build();
    assert!(!report.failed(), "{}", messages(&report));
    assert_eq!(report.warnings(), 1);
    assert!(site.output_exists("a.html"));
}

#[test]
fn output_folder_inside_content_is_refused() {
    let site = TestSite::new()
        .file("book.toml", "[build]\nbuild-dir = \"content/out\"\n")
        .page("a.md", "# A\n");
    let report = site.build();
    assert!(report.failed());
    assert!(
        messages(&report).contains("refusing"),
        "{}",
        messages(&report)
    );
    assert!(site.root().join("content/a.md").exists());
}

#[test]
fn stale_output_is_removed() {
    let site = TestSite::new().page("a.md", "# A\n").page("b.md", "# B\n");
    site.build_ok();
    assert!(site.output_exists("b.html"));
    // A deploy checkout's .git inside the output is not touched.
    std::fs::create_dir_all(site.root().join("public/.git")).unwrap();
    std::fs::write(site.root().join("public/.git/HEAD"), "ref").unwrap();
    std::fs::remove_file(site.root().join("content/b.md")).unwrap();
    site.build_ok();
    assert!(!site.output_exists("b.html"));
    assert!(site.output_exists("a.html"));
    assert!(site.output_exists(".git/HEAD"));
}

#[test]
fn sidebar_shows_only_the_current_branch() {
    // Per-page output must not grow with the whole site: other sections stay collapsed.
    let mut site = TestSite::new();
    for section in ["a", "b", "c"] {
        site = site.page(
            &format!("{section}/index.md"),
            &format!("# Section {section}\n"),
        );
        for i in 0..20 {
            site = site.page(
                &format!("{section}/p{i}.md"),
                &format!("# {section} page {i}\n"),
            );
        }
    }
    site.build_ok();
    let html = site.output("a/p3.html");
    let sidebar = &html[html.find("nav-tree").unwrap()..html.find("</nav>").unwrap()];
    assert!(sidebar.contains("a page 7"));
    assert!(!sidebar.contains("b page 7"));
    assert!(sidebar.contains("Section b"));
}

#[test]
fn includes_expand_with_ranges_and_anchors() {
    let site = TestSite::new()
        .page(
            "api.md",
            "# API\n\n```python\n{{#include ../examples/client.py:setup}}\n```\n\n{{#include ../examples/notes.md:2:3}}\n",
        )
        .file(
            "examples/client.py",
            "# ANCHOR: setup\nimport requests\nBASE = 'https://api.classlive.example/v1'\n# ANCHOR_END: setup\nprint(BASE)\n",
        )
        .file("examples/notes.md", "skip\nline two\nline three\nskip\n");
    site.build_ok();
    let html = site.output("api.html");
    let body = content_of(&html);
    assert!(body.contains("requests"), "{body}");
    assert!(!body.contains("ANCHOR"), "{body}");
    assert!(!body.contains("print"), "{body}");
    assert!(body.contains("line two\nline three"), "{body}");
    assert!(!body.contains("skip"), "{body}");
}

#[test]
fn heading_ids_are_unique_and_self_linked() {
    let site = TestSite::new().page("faq.md", "# FAQ\n\n## Audio\n\n## Audio\n");
    site.build_ok();
    let html = site.output("faq.html");
    assert!(html.contains("<h2 id=\"audio\">"));
    assert!(html.contains("<h2 id=\"audio-1\">"));
    assert!(html.contains("<a class=\"anchor\" href=\"#audio-1\""));
}

#[test]
fn empty_summary_builds_without_panicking() {
    let site = TestSite::new().page("SUMMARY.md", "# Summary\n\n- [Later]()\n");
    let report = site.build();
    assert!(!report.failed(), "{}", messages(&report));
    assert!(site.output_exists("404.html"));
}

#[test]
fn top_of_page_and_theme_landmark_links_are_valid() {
    let site = TestSite::new().page(
        "a.md",
        "# A\n\n## Content\n\n[top](#) [skip](#content) [here](#content-1)\n",
    );
    site.build_ok();
    // The heading does not take the id of the theme's <main id="content">.
    assert!(site.output("a.html").contains("<h2 id=\"content-1\">"));
}

#[test]
fn long_sections_show_a_window_and_link_to_the_rest() {
    let mut site = TestSite::new().page("s/index.md", "# S\n");
    for i in 0..60 {
        site = site.page(&format!("s/p{i:02}.md"), &format!("# Page {i:02}\n"));
    }
    site.build_ok();
    let html = site.output("s/p30.html");
    let sidebar = &html[html.find("nav-tree").unwrap()..html.find("</nav>").unwrap()];
    assert!(sidebar.contains(">Page 30<"));
    assert!(sidebar.contains(">Page 20<"));
    assert!(!sidebar.contains(">Page 05<"));
    assert!(sidebar.contains("more pages</a>"), "{sidebar}");
    assert!(
        sidebar.contains("<li class=\"nav-more\"><a href=\"index.html\">"),
        "{sidebar}"
    );
}

#[test]
fn not_found_page_links_are_absolute() {
    let site = TestSite::new()
        .page("faq.md", "# FAQ\n")
        .page("guides/a.md", "# A\n");
    site.build_ok();
    let html = site.output("404.html");
    assert!(html.contains("href=\"/faq.html\""), "{html}");
    assert!(html.contains("href=\"/guides/index.html\""), "{html}");
}

/// A rebuild rewrites only pages whose HTML changed: the others keep their modification time,
/// so a deploy step (rsync, an object-store sync) uploads only what changed.
#[test]
fn rebuild_leaves_unchanged_pages_untouched() {
    let site = TestSite::new()
        .page("a.md", "# A\n\nStays the same.\n")
        .page("b.md", "# B\n\nFirst version.\n");
    site.build_ok();
    let public = site.root().join("public");
    let mtime = |rel: &str| {
        std::fs::metadata(public.join(rel))
            .unwrap()
            .modified()
            .unwrap()
    };
    let (a_before, b_before) = (mtime("a.html"), mtime("b.html"));
    std::thread::sleep(std::time::Duration::from_millis(50));
    // A new page changes every page's navigation; a changed body changes only its page.
    let site = site.page("b.md", "# B\n\nSecond version.\n");
    site.build_ok();
    assert!(site.output("b.html").contains("Second version."));
    assert_ne!(mtime("b.html"), b_before, "the changed page was rewritten");
    assert_eq!(
        mtime("a.html"),
        a_before,
        "the unchanged page was left alone"
    );
}
