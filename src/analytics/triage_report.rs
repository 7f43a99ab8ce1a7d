//! How the triage trees did: for each tree, how many readers started it, how many it helped,
//! where the others dropped off, and which fixes fail most.
//!
//! Readers are sessions. Per tree, a reader's outcome is the last of their `resolved`,
//! `not_resolved` or `escalated` events in it (a reader who said "No", tried the next fix and
//! then said "Yes" was helped); a reader with none *abandoned* the tree, at the last step they
//! were shown. Per fix, the same rule applies to the outcome events of that fix alone.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use sqlx::Row;

use super::Outcome;
use super::report::Period;
use super::store::{EventStore, StoreError};
use crate::triage::TreeMeta;

/// One tree over a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TreeReport {
    /// The tree's id.
    pub tree: String,
    /// Its title (the id when the build does not know it any more).
    pub title: String,
    /// Readers who were shown any step of it.
    pub readers: i64,
    /// Of them, readers whose last outcome was "fixed".
    pub resolved: i64,
    /// … "not fixed".
    pub not_resolved: i64,
    /// … a ticket.
    pub escalated: i64,
    /// … nothing: they left.
    pub abandoned: i64,
    /// Every step readers were shown, most readers first.
    pub steps: Vec<StepReport>,
    /// The fixes, most failures (not fixed + tickets) first.
    pub fixes: Vec<FixReport>,
}

/// A step (question or fix) of a tree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepReport {
    /// `node` or `node/option`.
    pub step: String,
    /// The question, or the answer that leads to the fix.
    pub text: String,
    /// Readers shown it.
    pub readers: i64,
    /// Readers who abandoned the tree here (it was the last step they saw, with no outcome).
    pub dropped: i64,
}

/// A fix of a tree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixReport {
    /// `node/option`.
    pub step: String,
    /// The question and answer that lead to it.
    pub text: String,
    /// Readers shown it.
    pub readers: i64,
    /// Readers whose last answer to it was "fixed".
    pub resolved: i64,
    /// … "not fixed".
    pub not_resolved: i64,
    /// … a ticket.
    pub escalated: i64,
    /// Readers who gave no answer to it.
    pub no_answer: i64,
}

impl StepReport {
    /// Share of the readers shown the step who left the tree there, as `25 %`.
    pub fn drop_off_percent(&self) -> String {
        super::report::percent(self.dropped, self.readers)
    }
}

impl FixReport {
    /// Readers it failed: not fixed, or a ticket.
    pub fn failures(&self) -> i64 {
        self.not_resolved + self.escalated
    }
}

impl TreeReport {
    /// Readers and outcomes in one line: `12 readers · fixed 7 (58 %) · not fixed 2 · …`.
    pub fn summary(&self) -> String {
        format!(
            "{} readers · fixed {} ({}) · not fixed {} · ticket {} · left {}",
            self.readers,
            self.resolved,
            super::report::percent(self.resolved, self.readers),
            self.not_resolved,
            self.escalated,
            self.abandoned
        )
    }
}

/// One reader's time in one tree.
#[derive(Default)]
struct Walk {
    /// Steps shown, in time order (repeats kept).
    shown: Vec<String>,
    /// The last outcome in the tree.
    last: Option<Outcome>,
    /// The last outcome per fix.
    per_fix: HashMap<String, Outcome>,
}

impl EventStore {
    /// The report of every tree with events in `period`; `trees` gives titles and labels.
    pub async fn tree_report(
        &self,
        period: Period,
        trees: &[TreeMeta],
    ) -> Result<Vec<TreeReport>, StoreError> {
        let err = |e: sqlx::Error| self.error(&e);
        let rows = sqlx::query(
            "SELECT session, tree, step, outcome FROM events
             WHERE kind = 'triage' AND at >= $1 AND at < $2 ORDER BY at, id",
        )
        .bind(period.from)
        .bind(period.until)
        .fetch_all(self.pool())
        .await
        .map_err(err)?;
        // tree -> session -> walk
        let mut walks: BTreeMap<String, HashMap<String, Walk>> = BTreeMap::new();
        for row in &rows {
            let session: String = row.try_get(0).map_err(err)?;
            let tree: Option<String> = row.try_get(1).map_err(err)?;
            let step: Option<String> = row.try_get(2).map_err(err)?;
            let outcome: Option<String> = row.try_get(3).map_err(err)?;
            let (Some(tree), Some(step)) = (tree, step) else {
                continue;
            };
            let walk = walks.entry(tree).or_default().entry(session).or_default();
            let outcome = match outcome.as_deref() {
                Some("resolved") => Some(Outcome::Resolved),
                Some("not_resolved") => Some(Outcome::NotResolved),
                Some("escalated") => Some(Outcome::Escalated),
                _ => None,
            };
            match outcome {
                Some(o) => {
                    walk.last = Some(o);
                    walk.per_fix.insert(step.clone(), o);
                    if walk.shown.last() != Some(&step) {
                        walk.shown.push(step);
                    }
                }
                None => walk.shown.push(step),
            }
        }
        let mut out: Vec<TreeReport> = walks
            .into_iter()
            .map(|(tree, sessions)| summarise(&tree, &sessions, trees))
            .collect();
        out.sort_by(|a, b| b.readers.cmp(&a.readers).then_with(|| a.tree.cmp(&b.tree)));
        Ok(out)
    }
}

fn summarise(tree: &str, sessions: &HashMap<String, Walk>, trees: &[TreeMeta]) -> TreeReport {
    let meta = trees.iter().find(|t| t.id == tree);
    let text = |step: &str| -> String {
        match meta.and_then(|m| m.steps.get(step)) {
            Some(s) => match &s.label {
                Some(label) => format!("{} → {label}", s.question),
                None => s.question.clone(),
            },
            None => step.to_string(),
        }
    };
    let is_fix = |step: &str| meta.and_then(|m| m.steps.get(step)).is_some_and(|s| s.fix);
    let mut report = TreeReport {
        tree: tree.to_string(),
        title: meta.map_or_else(|| tree.to_string(), |m| m.title.clone()),
        readers: sessions.len() as i64,
        resolved: 0,
        not_resolved: 0,
        escalated: 0,
        abandoned: 0,
        steps: Vec::new(),
        fixes: Vec::new(),
    };
    let mut steps: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    let mut fixes: BTreeMap<&str, FixReport> = BTreeMap::new();
    for walk in sessions.values() {
        match walk.last {
            Some(Outcome::Resolved) => report.resolved += 1,
            Some(Outcome::NotResolved) => report.not_resolved += 1,
            Some(Outcome::Escalated) => report.escalated += 1,
            None => report.abandoned += 1,
        }
        let mut seen: Vec<&str> = walk.shown.iter().map(String::as_str).collect();
        seen.sort_unstable();
        seen.dedup();
        for step in &seen {
            steps.entry(step).or_default().0 += 1;
            if is_fix(step) || walk.per_fix.contains_key(*step) {
                let fix = fixes.entry(step).or_insert_with(|| FixReport {
                    step: step.to_string(),
                    text: text(step),
                    readers: 0,
                    resolved: 0,
                    not_resolved: 0,
                    escalated: 0,
                    no_answer: 0,
                });
                fix.readers += 1;
                match walk.per_fix.get(*step) {
                    Some(Outcome::Resolved) => fix.resolved += 1,
                    Some(Outcome::NotResolved) => fix.not_resolved += 1,
                    Some(Outcome::Escalated) => fix.escalated += 1,
                    None => fix.no_answer += 1,
                }
            }
        }
        if walk.last.is_none()
            && let Some(last) = walk.shown.last()
        {
            steps.entry(last.as_str()).or_default().1 += 1;
        }
    }
    report.steps = steps
        .into_iter()
        .map(|(step, (readers, dropped))| StepReport {
            step: step.to_string(),
            text: text(step),
            readers,
            dropped,
        })
        .collect();
    report
        .steps
        .sort_by(|a, b| b.readers.cmp(&a.readers).then_with(|| a.step.cmp(&b.step)));
    report.fixes = fixes.into_values().collect();
    report.fixes.sort_by(|a, b| {
        b.failures()
            .cmp(&a.failures())
            .then_with(|| b.readers.cmp(&a.readers))
            .then_with(|| a.step.cmp(&b.step))
    });
    report
}

/// The trees' part of the terminal report.
pub(super) fn trees_text(out: &mut String, trees: &[TreeReport]) {
    use std::fmt::Write;
    out.push_str("\nTriage trees\n");
    if trees.is_empty() {
        out.push_str("  no tree was used in the period\n");
        return;
    }
    for t in trees {
        let _ = writeln!(out, "  {} ({}): {}", t.title, t.tree, t.summary());
        let rows: Vec<Vec<String>> = t
            .steps
            .iter()
            .map(|s| {
                vec![
                    s.text.clone(),
                    s.readers.to_string(),
                    s.dropped.to_string(),
                    s.drop_off_percent(),
                ]
            })
            .collect();
        super::report::table(out, &["Step", "Readers", "Left here", "Drop-off"], &rows);
        let failing: Vec<Vec<String>> = t
            .fixes
            .iter()
            .filter(|f| f.failures() > 0)
            .map(|f| {
                vec![
                    f.text.clone(),
                    f.readers.to_string(),
                    f.resolved.to_string(),
                    f.not_resolved.to_string(),
                    f.escalated.to_string(),
                    f.no_answer.to_string(),
                ]
            })
            .collect();
        if failing.is_empty() {
            out.push_str("  no fix failed\n");
        } else {
            out.push_str("  Fixes that fail most\n");
            super::report::table(
                out,
                &[
                    "Fix",
                    "Readers",
                    "Fixed",
                    "Not fixed",
                    "Ticket",
                    "No answer",
                ],
                &failing,
            );
        }
    }
}
