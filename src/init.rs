//! `helpbook init`: a small knowledge base that builds, to start from.

use std::path::Path;

use crate::diagnostic::{Diagnostic, display_path};

/// The files of a new knowledge base: (path, text). `{title}` and `{language}` are filled in.
const FILES: &[(&str, &str)] = &[
    (
        "book.toml",
        r#"[book]
title = "{title}"
language = "{language}"
# Content lives in content/; the site is written to public/.

[build]
build-dir = "public"
# A link to a missing page or heading fails the build; set to "warn" while migrating.
broken-links = "error"
"#,
    ),
    (
        "content/index.md",
        r#"---
title: "{title}"
description: Answers to the questions our users ask most.
---

Start with the problem you have right now:

- [Something is broken](troubleshooting/index.md): step-by-step fixes, most urgent first.
- [Guides](guides/index.md): how to do things.
- [Frequently asked questions](faq.md).
"#,
    ),
    (
        "content/troubleshooting/index.md",
        r#"---
title: Troubleshooting
description: Step-by-step fixes, the most urgent first.
weight: 1
---
"#,
    ),
    (
        "content/troubleshooting/no-sound.md",
        r#"---
title: Nobody can hear me
description: Others see you talking but hear nothing.
kind: troubleshooting
audience: everyone
severity: urgent
symptoms: [no sound, muted, can't hear me]
tags: [audio]
updated: 2026-01-01
---

Replace this example with your own fix guide. Keep one action per step and put the most
likely fix first.

## Quick fix

Check that you are not muted: the microphone button shows no line through it.

## Pick the right microphone

1. Open the sound settings of the app.
2. Choose the microphone you are speaking into.
3. Say a few words and watch the level meter move.

## Still not working?

Tell support which device and browser you use, and what you tried.
"#,
    ),
    (
        "content/triage/no-sound.yaml",
        r#"# A triage tree: a few plain questions that lead to the right fix (see README.md,
# "Triage trees"). Every question and every fix becomes a page; the home page links the tree.
id: no-sound
title: Nobody can hear me
description: Two quick questions to find out why.
audience: everyone
start: muted
nodes:
  muted:
    question: Does the microphone button have a line through it?
    options:
      - label: "Yes"
        answer: You are muted. Click the microphone button once and speak again.
      - label: "No"
        next: others
  others:
    question: Can anyone else in the call be heard?
    options:
      - label: Nobody can be heard — it happens to everyone
        answer: The service may be down. Wait a few minutes, then reload.
        severity: urgent
        outage: true
      - label: Others can, only I can't
        page: troubleshooting/no-sound.md#pick-the-right-microphone
"#,
    ),
    (
        "content/guides/index.md",
        r#"---
title: Guides
description: How to get things done, step by step.
weight: 2
---
"#,
    ),
    (
        "content/guides/getting-started.md",
        r#"---
title: Getting started
description: What to do first.
kind: guide
audience: everyone
---

Write a short, task-focused guide here. Link to other pages with relative links to their
Markdown files, like the [fix for missing sound](../troubleshooting/no-sound.md#quick-fix):
helpbook turns them into the right URLs and reports any link that points nowhere.

> [!TIP]
> Run `helpbook check` after each change: it lists every problem with its file and line,
> from broken links to jargon a teacher would not understand.
"#,
    ),
    (
        "content/glossary.yaml",
        r#"# Technical words your pages may use, each with a plain explanation. The first use of a term
# on a page links to the glossary page and shows the explanation; `helpbook check` asks
# teacher pages to explain a term where they first use it. See README.md, "Glossary".
- term: echo cancellation
  aliases: [echo canceller]
  plain: A setting that stops your microphone from sending the sound of your own speakers back to the class.
  zh:
    term: 回声消除
    plain: 防止麦克风把你扬声器里的声音再传回课堂的设置。
"#,
    ),
    (
        "content/faq.md",
        r#"---
title: Frequently asked questions
description: Short answers to the questions readers ask most.
kind: faq
weight: 3
---

## How do I change my password?

Open **Settings → Account** and choose **Change password**.

## Who do I contact when nothing here helps?

Write to your support team and say what you tried.
"#,
    ),
];

/// Writes a new knowledge base into `dir` (created if missing). Refuses to overwrite an
/// existing `book.toml` or a non-empty `content/` folder.
pub fn init(dir: &Path, title: &str, language: &str) -> Result<Vec<String>, Diagnostic> {
    if dir.join("book.toml").exists() {
        return Err(
            Diagnostic::error(format!("`{}` already has a book.toml", display_path(dir))).help(
                "run init in an empty folder, or build the existing site with `helpbook build`",
            ),
        );
    }
    let content = dir.join("content");
    if content.is_dir()
        && std::fs::read_dir(&content).is_ok_and(|mut entries| entries.next().is_some())
    {
        return Err(
            Diagnostic::error(format!("`{}` is not empty", display_path(&content)))
                .help("move the existing files away or choose another folder"),
        );
    }
    let escaped_title = title.replace('\\', "\\\\").replace('"', "\\\"");
    let mut written = Vec::new();
    for (rel, text) in FILES {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                Diagnostic::error(format!("cannot create folder: {e}")).in_file(parent)
            })?;
        }
        let text = text
            .replace("{title}", &escaped_title)
            .replace("{language}", language);
        std::fs::write(&path, text)
            .map_err(|e| Diagnostic::error(format!("cannot write: {e}")).in_file(&path))?;
        written.push((*rel).to_string());
    }
    Ok(written)
}
