//! What readers did: searches, result clicks, page views, "Did this help?" answers. Stored by
//! one writer task in batches (see [`EventSink`]) in SQLite or PostgreSQL (see [`EventStore`]),
//! read back by the gap report.
//!
//! Nothing that identifies a person is stored: no IP address, no cookie, a random per-tab session
//! id chosen by the browser, and queries scrubbed of e-mail addresses, phone numbers and long
//! digit runs ([`scrub`]).

mod outbox;
mod report;
mod store;
mod tickets;
mod triage_report;
mod writer;

use serde::Deserialize;

use crate::triage::TreeMeta;

pub use outbox::{Outbox, Webhook};
pub use report::{
    ClosestPage, GapReport, PageScore, PageVotes, Period, QueryGap, Score, Unresolved, percent,
    site_report, sparkline_svg,
};
pub use store::{EventStore, Problem, StoreError, hide_password};
pub use tickets::{
    Delivery, GivenFeedback, MAX_CONTACT, MAX_DESCRIPTION, NewTicket, Priority, SessionContext,
    StoredTicket, Ticket, TicketPage, TicketRequest, TicketTriage, TriageAnswer, TriedSearch,
    TriedView, rfc3339, ticket_id,
};
pub use triage_report::{FixReport, StepReport, TreeReport};
pub use writer::{EventSink, SinkError};

/// Longest comment kept with feedback, in characters.
pub const MAX_COMMENT: usize = 1000;
/// Longest URL accepted in an event.
pub(crate) const MAX_URL: usize = 512;

/// One thing a reader did, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Milliseconds since the Unix epoch (server clock).
    pub at: i64,
    /// The browser tab's random id.
    pub session: String,
    /// What happened.
    pub kind: EventKind,
}

/// The kinds of events and what each carries.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// A search. The keystrokes of one search-as-you-type session share `search_id`, and the
    /// store keeps only the last one.
    Search {
        /// Chosen by the browser per typing session; the server makes one for a plain request.
        search_id: String,
        /// The query as typed, scrubbed.
        query: String,
        /// Its normalised form, which groups "Students can't hear me" with "student hear".
        normalized: String,
        /// Pages found.
        results: i64,
        /// `zh` or `en`: the script of the query.
        lang: String,
        /// Kind and audience filters, `kind=…&audience=…` (empty for none).
        filters: String,
    },
    /// A result opened from a search.
    Click {
        /// The search it came from.
        search_id: String,
        /// The result's URL (`/path.html#anchor`).
        url: String,
        /// Its place in the list, from 1.
        rank: i64,
    },
    /// A page was opened.
    View {
        /// The page's URL.
        url: String,
    },
    /// "Did this help?" on a page.
    Feedback {
        /// The page's URL.
        url: String,
        /// The answer.
        helpful: bool,
        /// Why not, when it did not help.
        reason: Option<Reason>,
        /// The reader's words, scrubbed.
        comment: Option<String>,
    },
    /// A step of a triage tree was shown, or its fix answered "Did this fix it?", or a ticket
    /// was filed from it.
    Triage {
        /// The tree's id.
        tree: String,
        /// The question (`node`) or fix (`node/option`) shown.
        step: String,
        /// The answers given to get there, `node/option` ids joined by `,`.
        path: String,
        /// What came of the fix; `None` for a step shown.
        outcome: Option<Outcome>,
        /// Whether one of the answers signals an outage ("everyone, in every class").
        outage: bool,
        /// The page of the step.
        url: String,
    },
}

/// What came of a triage tree's fix. A tree left without any of these is *abandoned*, which
/// the report works out (nobody sends an event for leaving).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// "Did this fix it?" — yes.
    Resolved,
    /// "Did this fix it?" — no.
    NotResolved,
    /// A ticket was filed from the tree.
    Escalated,
}

impl Outcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Resolved => "resolved",
            Outcome::NotResolved => "not_resolved",
            Outcome::Escalated => "escalated",
        }
    }
}

/// Why a page did not help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The page is out of date.
    Outdated,
    /// The page is hard to follow.
    Unclear,
    /// The steps did not fix the problem.
    DidntFix,
    /// Something else (see the comment).
    Other,
}

impl Reason {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Outdated => "outdated",
            Reason::Unclear => "unclear",
            Reason::DidntFix => "didnt_fix",
            Reason::Other => "other",
        }
    }
}

/// An event as the browser sends it to `POST /api/events`. Searches are not among them: the
/// server records those itself when it answers `/api/search`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientEvent {
    /// A result opened from a search.
    Click {
        /// The tab's session id.
        session: String,
        /// The search's id, as given to `/api/search`.
        search_id: String,
        /// The result's URL.
        url: String,
        /// Its place in the list, from 1.
        rank: i64,
    },
    /// A page was opened.
    View {
        /// The tab's session id.
        session: String,
        /// The page's URL.
        url: String,
    },
    /// "Did this help?".
    Feedback {
        /// The tab's session id.
        session: String,
        /// The page's URL.
        url: String,
        /// The answer.
        helpful: bool,
        /// Why not.
        #[serde(default)]
        reason: Option<Reason>,
        /// The reader's words.
        #[serde(default)]
        comment: Option<String>,
    },
    /// A step of a triage tree shown, or the answer to "Did this fix it?".
    Triage {
        /// The tab's session id.
        session: String,
        /// The tree's id.
        tree: String,
        /// The step shown: a question's node id, or `node/option` for a fix.
        step: String,
        /// The answers given to get there (`node/option` ids joined by `,`; empty at the start).
        #[serde(default)]
        path: String,
        /// `resolved` or `not_resolved`, for the answer to "Did this fix it?".
        #[serde(default)]
        outcome: Option<Outcome>,
    },
}

impl ClientEvent {
    /// Checks the event and makes it storable; the error names the field and the fix. Triage
    /// events are checked against the site's `trees`.
    pub fn validate(self, at: i64, trees: &[TreeMeta]) -> Result<Event, String> {
        let (session, kind) = match self {
            ClientEvent::Click {
                session,
                search_id,
                url,
                rank,
            } => {
                check_id("search_id", &search_id)?;
                if !(1..=1000).contains(&rank) {
                    return Err(format!("rank must be from 1 to 1000, not {rank}"));
                }
                let url = check_url(url)?;
                (
                    session,
                    EventKind::Click {
                        search_id,
                        url,
                        rank,
                    },
                )
            }
            ClientEvent::View { session, url } => (
                session,
                EventKind::View {
                    url: check_url(url)?,
                },
            ),
            ClientEvent::Feedback {
                session,
                url,
                helpful,
                reason,
                comment,
            } => {
                let comment = comment
                    .map(|c| clean_text(c.trim(), true).trim().to_string())
                    .filter(|c| !c.is_empty())
                    .map(|c| {
                        if c.chars().count() > MAX_COMMENT {
                            Err(format!("comment is longer than {MAX_COMMENT} characters"))
                        } else {
                            Ok(scrub(&c))
                        }
                    })
                    .transpose()?;
                (
                    session,
                    EventKind::Feedback {
                        url: check_url(url)?,
                        helpful,
                        reason: if helpful { None } else { reason },
                        comment,
                    },
                )
            }
            ClientEvent::Triage {
                session,
                tree,
                step,
                path,
                outcome,
            } => {
                if outcome == Some(Outcome::Escalated) {
                    return Err(
                        "outcome `escalated` is recorded by the server when a ticket is filed"
                            .into(),
                    );
                }
                (session, triage_event(trees, &tree, &step, &path, outcome)?)
            }
        };
        check_id("session", &session)?;
        Ok(Event { at, session, kind })
    }
}

/// A triage event for `step` of tree `tree`, reached by `path`, checked against `trees`.
pub fn triage_event(
    trees: &[TreeMeta],
    tree: &str,
    step: &str,
    path: &str,
    outcome: Option<Outcome>,
) -> Result<EventKind, String> {
    let meta = find_tree(trees, tree)
        .ok_or_else(|| format!("tree `{tree}` is not a tree of this site"))?;
    let step_meta = meta
        .steps
        .get(step)
        .ok_or_else(|| format!("step `{step}` is not part of tree `{tree}`"))?;
    if outcome.is_some() && !step_meta.fix {
        return Err(format!(
            "step `{step}` is a question, not a fix: only a fix has an outcome"
        ));
    }
    let answers = split_path(path);
    meta.check_path(&answers)
        .map_err(|e| format!("path: {e}"))?;
    // The path leads to the step: a question the last answer led to, or a fix that is the last
    // answer itself.
    let leads_here = match answers.last() {
        None => step == meta.start,
        Some(last) if step_meta.fix => last == &step,
        Some(last) => meta.steps.get(*last).and_then(|m| m.next.as_deref()) == Some(step),
    };
    if !leads_here {
        return Err(format!("path does not lead to step `{step}`"));
    }
    Ok(step_event(meta, step, &answers, outcome))
}

/// What a ticket filed from tree `tree` after the answers `path` records: the `escalated`
/// event (at the step the answers lead to), the answers spelled out for support, and the
/// highest severity among them.
pub fn escalation(
    trees: &[TreeMeta],
    tree: &str,
    path: &str,
) -> Result<(EventKind, TicketTriage, Option<crate::content::Urgency>), String> {
    let meta = find_tree(trees, tree)
        .ok_or_else(|| format!("triage_tree `{tree}` is not a tree of this site"))?;
    let answers = split_path(path);
    meta.check_path(&answers)
        .map_err(|e| format!("triage_path: {e}"))?;
    // A checked path leads to the question its last answer names, or ends at a fix.
    let step = match answers
        .last()
        .and_then(|last| meta.steps.get(*last).map(|m| (last, m)))
    {
        None => meta.start.clone(),
        Some((_, m)) if !m.fix => m.next.clone().unwrap_or_default(),
        Some((last, _)) => last.to_string(),
    };
    let event = step_event(meta, &step, &answers, Some(Outcome::Escalated));
    let steps = || {
        answers
            .iter()
            .filter_map(|a| meta.steps.get(*a).map(|m| (a, m)))
    };
    let severity = steps().filter_map(|(_, m)| m.severity).min();
    let spelled = steps()
        .map(|(a, m)| TriageAnswer {
            question: m.question.clone(),
            answer: m.label.clone().unwrap_or_default(),
            step: a.to_string(),
        })
        .collect();
    let triage = TicketTriage {
        tree: meta.id.clone(),
        title: meta.title.clone(),
        answers: spelled,
    };
    Ok((event, triage, severity))
}

fn find_tree<'a>(trees: &'a [TreeMeta], id: &str) -> Option<&'a TreeMeta> {
    trees.iter().find(|t| t.id == id)
}

/// The answers of a path as written (`who/only-me,what/sound`).
fn split_path(path: &str) -> Vec<&str> {
    path.split(',').filter(|s| !s.is_empty()).collect()
}

/// The event for `step` of `meta` reached by the checked `answers`.
fn step_event(
    meta: &TreeMeta,
    step: &str,
    answers: &[&str],
    outcome: Option<Outcome>,
) -> EventKind {
    EventKind::Triage {
        tree: meta.id.clone(),
        step: step.to_string(),
        path: answers.join(","),
        outcome,
        outage: answers
            .iter()
            .any(|a| meta.steps.get(*a).is_some_and(|m| m.outage)),
        url: meta
            .steps
            .get(step)
            .map(|m| m.url.clone())
            .unwrap_or_default(),
    }
}

/// Session and search ids: 8 to 64 letters, digits, `-` or `_` (what `crypto.randomUUID()` and
/// similar make).
pub fn check_id(field: &str, id: &str) -> Result<(), String> {
    let ok = (8..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{field} must be 8 to 64 letters, digits, `-` or `_` (a random id made by the page)"
        ))
    }
}

/// A site path: starts with `/`, at most 512 bytes, no scheme or host, no backslash or control
/// character. Made canonical so one page has one URL whatever the browser sent: the path is
/// percent-decoded, a folder (`/guide/`) is its `index.html`, a query string is dropped and a
/// `#fragment` kept.
pub(crate) fn check_url(url: String) -> Result<String, String> {
    let ok = url.starts_with('/')
        && !url.starts_with("//")
        && url.len() <= MAX_URL
        && !url.contains('\\')
        && !url.chars().any(char::is_control);
    if !ok {
        return Err(format!(
            "url must be a path on this site starting with `/` (at most {MAX_URL} bytes)"
        ));
    }
    let (rest, fragment) = match url.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (url.as_str(), None),
    };
    let path = rest.split('?').next().unwrap_or_default();
    let mut path = crate::content::percent_decode(path);
    if path.starts_with("//") || path.contains('\\') || path.chars().any(char::is_control) {
        return Err("url must be a path on this site, not another site's address".into());
    }
    if path.ends_with('/') {
        path.push_str("index.html");
    }
    Ok(match fragment {
        Some(f) => format!("{path}#{f}"),
        None => path,
    })
}

/// `text` without control characters (PostgreSQL refuses NUL in text, and none of them belong
/// in a query or a comment); line breaks and tabs are kept when `lines`.
pub(crate) fn clean_text(text: &str, lines: bool) -> String {
    text.chars()
        .filter(|c| !c.is_control() || (lines && (*c == '\n' || *c == '\t')))
        .collect()
}

/// Replaces e-mail addresses, phone numbers and runs of 6 or more digits with placeholders, so
/// a reader who types their phone number or student id into the search box is not recorded.
pub fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for token in text.split_inclusive(char::is_whitespace) {
        let word = token.trim_end();
        let space = &token[word.len()..];
        if word.contains('@') && word.split('@').all(|p| !p.is_empty()) && word.contains('.') {
            out.push_str("[email]");
        } else {
            out.push_str(&scrub_digits(word));
        }
        out.push_str(space);
    }
    scrub_phone_numbers(&out)
}

/// Runs of 6 or more digits (ids, account numbers) become `[number]`.
fn scrub_digits(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().count() >= 6 {
            out.push_str("[number]");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in word.chars() {
        if c.is_ascii_digit() || ('０'..='９').contains(&c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Phone numbers written with separators (`+1 415-555-0100`, `(020) 7946 0958`): a stretch of
/// digits, spaces, `+`, `-`, `(`, `)` and `.` holding 7 or more digits becomes `[phone]`.
fn scrub_phone_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let is_part = |c: char| c.is_ascii_digit() || " +-().".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() || chars[i] == '+' || chars[i] == '(' {
            let mut j = i;
            while j < chars.len() && is_part(chars[j]) {
                j += 1;
            }
            // Trailing separators are not part of the number.
            while j > i && !chars[j - 1].is_ascii_digit() {
                j -= 1;
            }
            let digits = chars[i..j].iter().filter(|c| c.is_ascii_digit()).count();
            if digits >= 7 {
                out.push_str("[phone]");
                i = j;
                continue;
            }
            out.extend(&chars[i..j.max(i + 1)]);
            i = j.max(i + 1);
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// A random id for a search the browser did not name (16 hex digits; not a secret).
pub fn random_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // `RandomState` is seeded randomly per process; the counter makes each id distinct.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_i64(now_ms());
    format!("srv-{:016x}", h.finish())
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_canonical_and_stay_on_the_site() {
        let ok = |u: &str| check_url(u.to_string()).unwrap();
        assert_eq!(ok("/guide/"), "/guide/index.html");
        assert_eq!(
            ok("/zh/%E5%A3%B0%E9%9F%B3.html#steps"),
            "/zh/声音.html#steps"
        );
        assert_eq!(ok("/a.html?x=1#b"), "/a.html#b");
        for bad in [
            "//evil.example/",
            "/\\evil.example",
            "/%2F/evil.example",
            "/a\u{0}b",
            "https://x/",
        ] {
            assert!(check_url(bad.to_string()).is_err(), "{bad}");
        }
        assert_eq!(clean_text("a\u{0}b\nc\td\r", true), "ab\nc\td");
        assert_eq!(clean_text("a\nb", false), "ab");
    }

    #[test]
    fn scrub_removes_contact_details_and_ids() {
        assert_eq!(
            scrub("mail me at ann.lee@school.edu please"),
            "mail me at [email] please"
        );
        assert_eq!(scrub("call +1 415-555-0100 now"), "call [phone] now");
        assert_eq!(
            scrub("student 20231187 cannot log in"),
            "student [number] cannot log in"
        );
        assert_eq!(scrub("学号 2023118790 登录失败"), "学号 [number] 登录失败");
        // Short numbers are kept: error codes and ports are what readers search for.
        assert_eq!(scrub("error 403 on port 8080"), "error 403 on port 8080");
        assert_eq!(scrub("HTTP 429 速率限制"), "HTTP 429 速率限制");
    }

    #[test]
    fn client_events_are_checked_field_by_field() {
        let click = |rank: i64, url: &str| ClientEvent::Click {
            session: "tab-12345678".into(),
            search_id: "search-1234".into(),
            url: url.into(),
            rank,
        };
        assert!(click(1, "/a.html#b").validate(1, &[]).is_ok());
        assert!(
            click(0, "/a.html")
                .validate(1, &[])
                .unwrap_err()
                .contains("rank")
        );
        assert!(
            click(1, "https://evil.example/")
                .validate(1, &[])
                .unwrap_err()
                .contains("url")
        );
        let short = ClientEvent::View {
            session: "x".into(),
            url: "/a.html".into(),
        };
        assert!(short.validate(1, &[]).unwrap_err().contains("session"));
        let feedback = ClientEvent::Feedback {
            session: "tab-12345678".into(),
            url: "/a.html".into(),
            helpful: false,
            reason: Some(Reason::Outdated),
            comment: Some("  call me on 0123 456 789  ".into()),
        };
        let Event { kind, .. } = feedback.validate(1, &[]).unwrap();
        assert_eq!(
            kind,
            EventKind::Feedback {
                url: "/a.html".into(),
                helpful: false,
                reason: Some(Reason::Outdated),
                comment: Some("call me on [phone]".into()),
            }
        );
    }
}
