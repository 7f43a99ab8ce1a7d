//! Snapshots of rendered fragments: reviewed like code when they change.

use helpbook::i18n::Locale;
use helpbook::markdown::{Highlighter, MappedText, RenderOptions, expand_containers, render};

fn html(md: &str, locale: Locale, steps: bool) -> String {
    let alert = |k: &str| locale.alert_title(k);
    let step = |n: u32| locale.step_label(n);
    let opts = RenderOptions {
        alert_title: &alert,
        step_label: if steps { Some(&step) } else { None },
        copy_label: locale.get("copy"),
        copied_label: locale.get("copied"),
        table_label: locale.get("table"),
        anchor_label: locale.get("anchor_link"),
        terms: None,
    };
    let text = expand_containers(MappedText::new(md.to_string(), 1), |k| {
        locale.alert_title(k)
    });
    render(&text, &opts, Highlighter::global(), &mut |_, _, _| None).html
}

#[test]
fn gfm_alerts_with_localised_titles() {
    let md = "> [!NOTE]\n> Plain note.\n\n> [!TIP]\n> A tip.\n\n> [!IMPORTANT]\n> Key.\n\n> [!WARNING]\n> Careful.\n\n> [!CAUTION]\n> Danger.\n\n> Just a quote.\n";
    insta::assert_snapshot!("alerts_en", html(md, Locale::En, false));
    insta::assert_snapshot!(
        "alerts_zh",
        html(
            "> [!WARNING]\n> 不要在上课时更新系统。\n",
            Locale::Zh,
            false
        )
    );
}

#[test]
fn docusaurus_containers() {
    let md = ":::tip Quick fix\nUnmute **first**.\n:::\n\n:::danger\nDo not restart during class.\n:::\n\n:::note\nOuter\n\n:::info\nInner\n:::\n:::\n";
    insta::assert_snapshot!(html(md, Locale::En, false));
}

#[test]
fn headings_slugs_and_steps() {
    let md = "# Title\n\n## Quick fix\n\n## Check the microphone\n\n## 检查网络\n\n## Custom {#my-id .extra}\n\n## Still not working?\n";
    insta::assert_snapshot!(html(md, Locale::En, true));
}

#[test]
fn tables_tasks_footnotes_definitions_strikethrough() {
    let md = "| Key | Default |\n|-----|--------:|\n| `lobby` | `true` |\n\n- [x] Charge the laptop\n- [ ] Test the microphone\n\nLatency matters.[^1]\n\n[^1]: The delay between speaking and being heard.\n\nBitrate\n: How much data per second the video uses.\n\n~~Flash~~ is gone.\n";
    insta::assert_snapshot!(html(md, Locale::En, false));
}

#[test]
fn code_blocks() {
    let md = "```bash\ncurl -H \"Authorization: Bearer $TOKEN\" https://api.classlive.example/v1/rooms\n```\n\n```unknown-lang\n<tag> & stuff\n```\n\n    indented code\n";
    insta::assert_snapshot!(html(md, Locale::En, false));
}
