//! Triage trees: a few plain questions that lead a reader to the right fix.
//!
//! A tree is a YAML file under `content/triage/` (see README.md, "Triage trees"): a start
//! question, and for each question its options, each leading to another question (`next`), a
//! guide (`page`) or a short fix shown in place (`answer`). This module reads a tree strictly
//! (unknown keys, wrong types and duplicate keys are errors at their line and column) and checks
//! its shape: every `next` names a node, every node can be reached from the start and has
//! options, no path loops back, each option has exactly one target. Whether a `page` exists is
//! checked later, with the site's pages ([`check_targets`]). Turning a tree into pages is the
//! content stage's job.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::content::{Audience, Urgency};
use crate::diagnostic::Diagnostic;

/// Where trees live under the content folder.
pub const TREE_DIR: &str = "triage";

/// Most questions one tree may have: a tree is a few questions, not a database.
pub const MAX_NODES: usize = 200;

/// A triage tree, read and checked.
#[derive(Debug, Clone)]
pub struct Tree {
    /// Unique across the site; part of every URL of the tree.
    pub id: String,
    /// What the reader is trying to fix ("Something is wrong in my live class").
    pub title: String,
    /// One sentence under the title, also shown on the home page.
    pub description: Option<String>,
    /// Who the tree is written for.
    pub audience: Option<Audience>,
    /// Language tag, when it differs from the book's.
    pub lang: Option<String>,
    /// Phrases readers type, boosted in search like a page's.
    pub symptoms: Vec<String>,
    /// Order on the home page (lower first).
    pub weight: i64,
    /// Id of the first question.
    pub start: String,
    /// The questions, in file order.
    pub nodes: Vec<Node>,
    /// The file under the content folder (`triage/live-class.yaml`).
    pub source: String,
    /// The file's text, for error snippets.
    pub text: Arc<str>,
}

/// One question.
#[derive(Debug, Clone)]
pub struct Node {
    /// Unique in the tree; the page's file name.
    pub id: String,
    /// The question, in plain words.
    pub question: String,
    /// Markdown shown under the question (how to tell which answer applies).
    pub help: Option<Located>,
    /// The answers, in the order the writer expects them to be likely.
    pub options: Vec<Choice>,
    /// Where the node's key is written.
    pub at: Place,
}

/// One answer to a question.
#[derive(Debug, Clone)]
pub struct Choice {
    /// Unique in its node; the leaf page's file name (from `id`, or the label).
    pub id: String,
    /// The answer as the reader reads it.
    pub label: String,
    /// Where it leads.
    pub goal: Goal,
    /// How urgent this answer makes the reader's problem (the priority of a ticket filed after
    /// it).
    pub severity: Option<Urgency>,
    /// The answer means the fault is not the reader's ("everyone, in every class"): many of them
    /// at once raise the outage signal.
    pub outage: bool,
    /// Where the option starts.
    pub at: Place,
}

/// Where an option leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Goal {
    /// Another question of the tree.
    Next {
        /// The node's id.
        node: String,
        /// Where it is written.
        at: Place,
    },
    /// A guide under the content folder, maybe an anchor in it.
    Page {
        /// Path under the content folder.
        source: String,
        /// Heading id.
        anchor: Option<String>,
        /// Where it is written.
        at: Place,
    },
    /// A short fix, in Markdown, shown in place.
    Answer(Located),
}

impl Goal {
    /// Whether the option ends the tree (a fix), rather than asking another question.
    pub fn is_fix(&self) -> bool {
        !matches!(self, Goal::Next { .. })
    }
}

/// A 1-based line and column in the tree's file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Place {
    /// Line.
    pub line: usize,
    /// Column.
    pub column: usize,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Markdown text and the line of the file its first line is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The text.
    pub text: String,
    /// 1-based line of its first line.
    pub line: usize,
}

impl Tree {
    /// The node with id `id`.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Where option `choice` of node `node` leads: the next question's page, or its fix page.
    pub fn option_url(&self, node: &str, choice: &Choice) -> String {
        match &choice.goal {
            Goal::Next { node: next, .. } => node_url(self, next),
            _ => fix_url(self, node, &choice.id),
        }
    }

    /// The first question.
    pub fn start_node(&self) -> &Node {
        self.node(&self.start).unwrap_or(&self.nodes[0])
    }

    /// For each node reachable from the start: the answer leading to it on the shortest path
    /// from the start (`(parent node, option index)`), the start itself mapping to `None`.
    /// Ties go to the earlier question and the earlier option, so the trail a page shows is
    /// stable.
    pub fn parents(&self) -> HashMap<&str, Option<(&str, usize)>> {
        let mut parent: HashMap<&str, Option<(&str, usize)>> = HashMap::new();
        if self.node(&self.start).is_none() {
            return parent;
        }
        parent.insert(&self.start, None);
        let mut queue = std::collections::VecDeque::from([self.start.as_str()]);
        while let Some(id) = queue.pop_front() {
            let Some(node) = self.node(id) else { continue };
            for (i, choice) in node.options.iter().enumerate() {
                if let Goal::Next { node: next, .. } = &choice.goal
                    && self.node(next).is_some()
                    && !parent.contains_key(next.as_str())
                {
                    parent.insert(next, Some((&node.id, i)));
                    queue.push_back(next);
                }
            }
        }
        parent
    }

    /// The answers leading from the start to node `id` on the path [`Tree::parents`] picks:
    /// `(node, option index)` pairs, first question first.
    pub fn trail(&self, id: &str) -> Vec<(&Node, usize)> {
        self.trail_in(&self.parents(), id)
    }

    /// [`Tree::trail`] with the tree's [`Tree::parents`] already worked out.
    pub fn trail_in<'a>(
        &'a self,
        parents: &HashMap<&str, Option<(&str, usize)>>,
        id: &str,
    ) -> Vec<(&'a Node, usize)> {
        let mut out = Vec::new();
        let mut at = id;
        while let Some(Some((parent, i))) = parents.get(at) {
            if out.len() > self.nodes.len() {
                break;
            }
            if let Some(node) = self.node(parent) {
                out.push((node, *i));
            }
            at = parent;
        }
        out.reverse();
        out
    }
}

/// Reads a tree from the text of `source` (its path under the content folder), shown in
/// messages as `shown`. Problems of its shape are returned with the tree when it could be read.
pub fn parse(text: Arc<str>, source: &str, shown: &str) -> (Option<Tree>, Vec<Diagnostic>) {
    let place = |d: Diagnostic| d.in_file(shown).with_source(text.clone());
    let raw: RawTree = match serde_saphyr::from_str(&text) {
        Ok(raw) => raw,
        Err(e) => {
            let mut d = crate::content::yaml_error(&e, "triage tree", 1);
            if d.message.contains("unknown field") {
                d = d.help(HELP_KEYS);
            }
            return (None, vec![place(d)]);
        }
    };
    let mut diags = Vec::new();
    let mut nodes = Vec::new();
    let nodes_at = place_of(&raw.nodes);
    for (key, raw_node) in raw.nodes.value.0 {
        let at = place_of(&key);
        let id = key.value;
        if let Err(problem) = check_id(&id) {
            diags.push(place(
                Diagnostic::error(format!("node id `{id}` {problem}"))
                    .at(at.line, at.column)
                    .help("use letters, digits, `-` and `_`, such as `sound-or-picture`"),
            ));
        }
        let mut options: Vec<Choice> = Vec::new();
        let raw_options = raw_node.options.map(|o| o.value).unwrap_or_default();
        if raw_options.is_empty() {
            diags.push(place(
                Diagnostic::error(format!("node `{id}` has no options"))
                    .at(at.line, at.column)
                    .help("give it `options:`, a list of answers each with a `label` and one of `next`, `page` or `answer`"),
            ));
        }
        let mut used_ids: HashSet<String> = HashSet::new();
        for (i, raw_choice) in raw_options.into_iter().enumerate() {
            let at = place_of(&raw_choice.label);
            let label = raw_choice.label.value.trim().to_string();
            let targets: Vec<&str> = [
                raw_choice.next.as_ref().map(|_| "next"),
                raw_choice.page.as_ref().map(|_| "page"),
                raw_choice.answer.as_ref().map(|_| "answer"),
            ]
            .into_iter()
            .flatten()
            .collect();
            if targets.len() != 1 {
                let message = if targets.is_empty() {
                    format!("option `{label}` of node `{id}` leads nowhere")
                } else {
                    format!(
                        "option `{label}` of node `{id}` has both {}: an option leads to one place",
                        targets
                            .iter()
                            .map(|t| format!("`{t}`"))
                            .collect::<Vec<_>>()
                            .join(" and ")
                    )
                };
                diags.push(place(Diagnostic::error(message).at(at.line, at.column).help(
                    "give it exactly one of `next` (another question), `page` (a guide) or `answer` (a short fix)",
                )));
            }
            let goal = if let Some(next) = raw_choice.next {
                Goal::Next {
                    at: place_of(&next),
                    node: next.value.trim().to_string(),
                }
            } else if let Some(page) = raw_choice.page {
                let at = place_of(&page);
                let value = page.value.trim();
                let (path, anchor) = match value.split_once('#') {
                    Some((p, a)) => (p, Some(a.to_string()).filter(|a| !a.is_empty())),
                    None => (value, None),
                };
                Goal::Page {
                    source: path.trim_start_matches('/').to_string(),
                    anchor,
                    at,
                }
            } else if let Some(answer) = raw_choice.answer {
                Goal::Answer(located(&text, &answer))
            } else {
                // Reported above; an empty answer keeps the rest of the checks going.
                Goal::Answer(Located {
                    text: String::new(),
                    line: at.line,
                })
            };
            let choice_id = match raw_choice.id {
                Some(explicit) => {
                    let explicit_at = place_of(&explicit);
                    let explicit = explicit.value;
                    if let Err(problem) = check_id(&explicit) {
                        diags.push(place(
                            Diagnostic::error(format!("option id `{explicit}` {problem}"))
                                .at(explicit_at.line, explicit_at.column)
                                .help("use letters, digits, `-` and `_`"),
                        ));
                    } else if used_ids.contains(&explicit) {
                        diags.push(place(
                            Diagnostic::error(format!(
                                "two options of node `{id}` have the id `{explicit}`"
                            ))
                            .at(explicit_at.line, explicit_at.column)
                            .help("option ids name the fix's page: make them different"),
                        ));
                    }
                    explicit
                }
                None => {
                    let slug = crate::markdown::slugify(&label);
                    let mut base = if !slug.is_empty()
                        && slug.is_ascii()
                        && slug.len() <= 40
                        && check_id(&slug).is_ok()
                    {
                        slug
                    } else {
                        (i + 1).to_string()
                    };
                    if used_ids.contains(&base) {
                        base = format!("{base}-{}", i + 1);
                    }
                    base
                }
            };
            used_ids.insert(choice_id.clone());
            options.push(Choice {
                id: choice_id,
                label,
                goal,
                severity: raw_choice.severity,
                outage: raw_choice.outage,
                at,
            });
        }
        nodes.push(Node {
            id,
            question: raw_node.question.trim().to_string(),
            help: raw_node.help.map(|h| located(&text, &h)),
            options,
            at,
        });
    }
    let id_at = place_of(&raw.id);
    if let Err(problem) = check_id(&raw.id.value) {
        diags.push(place(
            Diagnostic::error(format!("tree id `{}` {problem}", raw.id.value))
                .at(id_at.line, id_at.column)
                .help("use letters, digits, `-` and `_`, such as `live-class`"),
        ));
    }
    if nodes.is_empty() {
        let at = nodes_at;
        diags.push(place(
            Diagnostic::error("the tree has no nodes")
                .at(at.line, at.column)
                .help("add at least the start question under `nodes:`"),
        ));
        return (None, diags);
    }
    if nodes.len() > MAX_NODES {
        let at = nodes_at;
        diags.push(place(
            Diagnostic::error(format!(
                "the tree has {} nodes; at most {MAX_NODES} are allowed",
                nodes.len()
            ))
            .at(at.line, at.column)
            .help("split it into several trees: readers answer two or three questions, not dozens"),
        ));
        return (None, diags);
    }
    let tree = Tree {
        id: raw.id.value,
        title: raw.title.trim().to_string(),
        description: raw.description.map(|d| d.trim().to_string()),
        audience: raw.audience,
        lang: raw.lang,
        symptoms: raw.symptoms,
        weight: raw.weight,
        start: raw.start.value.trim().to_string(),
        nodes,
        source: source.to_string(),
        text: text.clone(),
    };
    let start_at = place_of(&raw.start);
    diags.extend(check_shape(&tree, start_at).into_iter().map(place));
    (Some(tree), diags)
}

const HELP_KEYS: &str = "a tree has: id, title, description, audience, lang, symptoms, weight, start, nodes; a node: question, help, options; an option: label, id, next, page, answer, severity, outage";

/// Ids become file names and URL parts: letters, digits, `-` and `_`.
fn check_id(id: &str) -> Result<(), &'static str> {
    if id.is_empty() {
        return Err("is empty");
    }
    if id.len() > 64 {
        return Err("is longer than 64 characters");
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err("may only hold letters, digits, `-` and `_`");
    }
    if id == "index" {
        return Err("is reserved (it names the start page)");
    }
    Ok(())
}

fn place_of<T>(spanned: &Spanned<T>) -> Place {
    Place {
        line: (spanned.referenced.line() as usize).max(1),
        column: (spanned.referenced.column() as usize).max(1),
    }
}

/// A Markdown value and the line its text starts on: the next line for a block scalar (`|` or
/// `>`), which is how answers of more than one line are written.
fn located(text: &str, value: &Spanned<String>) -> Located {
    let at = place_of(value);
    let block = text
        .lines()
        .nth(at.line - 1)
        .and_then(|l| l.chars().skip(at.column - 1).find(|c| !c.is_whitespace()))
        .is_some_and(|c| c == '|' || c == '>');
    Located {
        text: value.value.clone(),
        line: if block { at.line + 1 } else { at.line },
    }
}

/// The checks that need only the tree: the start and every `next` name a node; every node is
/// reachable from the start; no path leads back to a question already asked.
fn check_shape(tree: &Tree, start_at: Place) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let names: Vec<&str> = tree.nodes.iter().map(|n| n.id.as_str()).collect();
    let unknown = |id: &str| {
        let mut close: Vec<&str> = names.clone();
        close.sort_by_cached_key(|n| crate::content::edit_distance(n, id));
        match close.first() {
            Some(best) if crate::content::edit_distance(best, id) <= id.len().max(2) / 2 => {
                format!("did you mean `{best}`?")
            }
            _ => format!("the nodes of this tree are: {}", names.join(", ")),
        }
    };
    if tree.node(&tree.start).is_none() {
        diags.push(
            Diagnostic::error(format!(
                "`start` names node `{}`, which does not exist",
                tree.start
            ))
            .at(start_at.line, start_at.column)
            .help(unknown(&tree.start)),
        );
    }
    for node in &tree.nodes {
        for choice in &node.options {
            if let Goal::Next { node: next, at } = &choice.goal
                && tree.node(next).is_none()
            {
                diags.push(
                    Diagnostic::error(format!(
                        "option `{}` of node `{}` leads to node `{next}`, which does not exist",
                        choice.label, node.id
                    ))
                    .at(at.line, at.column)
                    .help(unknown(next)),
                );
            }
        }
    }
    if tree.node(&tree.start).is_none() {
        return diags;
    }
    let reachable = tree.parents();
    for node in &tree.nodes {
        if !reachable.contains_key(node.id.as_str()) {
            diags.push(
                Diagnostic::error(format!(
                    "node `{}` cannot be reached from the start node `{}`",
                    node.id, tree.start
                ))
                .at(node.at.line, node.at.column)
                .help(format!(
                    "lead to it with `next: {}` from an option, or remove it",
                    node.id
                )),
            );
        }
    }
    // Cycles: a depth-first walk from the start; an edge back to a node on the current path
    // closes a loop, reported at that option with the loop spelled out.
    let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let mut state = vec![0u8; tree.nodes.len()]; // 0 new, 1 on the path, 2 done
    let mut path: Vec<usize> = Vec::new();
    let mut reported: HashSet<(usize, usize)> = HashSet::new();
    // Iterative, so a long chain of questions cannot overflow the stack.
    let mut stack: Vec<(usize, usize)> = vec![(index[tree.start.as_str()], 0)];
    state[stack[0].0] = 1;
    path.push(stack[0].0);
    while let Some((n, next_option)) = stack.pop() {
        let node = &tree.nodes[n];
        if next_option >= node.options.len() {
            state[n] = 2;
            path.pop();
            continue;
        }
        stack.push((n, next_option + 1));
        let choice = &node.options[next_option];
        let Goal::Next { node: next, at } = &choice.goal else {
            continue;
        };
        let Some(&m) = index.get(next.as_str()) else {
            continue;
        };
        match state[m] {
            0 => {
                state[m] = 1;
                path.push(m);
                stack.push((m, 0));
            }
            1 if reported.insert((n, next_option)) => {
                let from = path.iter().position(|p| *p == m).unwrap_or(0);
                let mut loop_names: Vec<&str> = path[from..].iter().map(|i| names[*i]).collect();
                loop_names.push(names[m]);
                diags.push(
                    Diagnostic::error(format!(
                        "option `{}` of node `{}` leads back to `{}`: {}",
                        choice.label,
                        node.id,
                        names[m],
                        loop_names.join(" → ")
                    ))
                    .at(at.line, at.column)
                    .help("a tree never asks the same question twice: lead to a later question, a page or an answer"),
                );
            }
            _ => {}
        }
    }
    diags
}

/// URL of node `node` of `tree`, relative to the site root: the first question at
/// `triage/<tree>/index.html`, the others at `triage/<tree>/<node>.html`.
pub fn node_url(tree: &Tree, node: &str) -> String {
    if node == tree.start {
        format!("{TREE_DIR}/{}/index.html", tree.id)
    } else {
        format!("{TREE_DIR}/{}/{node}.html", tree.id)
    }
}

/// URL of the fix page of option `option` of node `node`, relative to the site root.
pub fn fix_url(tree: &Tree, node: &str, option: &str) -> String {
    format!("{TREE_DIR}/{}/{node}/{option}.html", tree.id)
}

/// Where the build writes [`TreeMeta`] of every tree, under the output folder.
pub const TRIAGE_FILE: &str = ".helpbook/triage.json";

/// A tree as the server needs it: to check triage events, to spell out the answers of a
/// ticket, and to know which answers signal an outage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeMeta {
    /// The tree's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its language tag.
    pub lang: String,
    /// The first question's id.
    pub start: String,
    /// Every step: node ids (questions) and `node/option` ids (answers).
    pub steps: std::collections::BTreeMap<String, StepMeta>,
}

/// A question or an answer of a tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepMeta {
    /// The question (of the node, for an answer).
    pub question: String,
    /// The answer's label (answers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The page the step is shown on: the question's, or the page an answer leads to.
    pub url: String,
    /// The question an answer leads to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Whether the answer leads to a fix.
    #[serde(default)]
    pub fix: bool,
    /// The answer's severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Urgency>,
    /// Whether the answer signals an outage.
    #[serde(default)]
    pub outage: bool,
}

impl TreeMeta {
    /// The entry for `tree`; `language` is the book's, for trees without `lang`.
    pub fn of(tree: &Tree, language: &str) -> TreeMeta {
        let mut steps = std::collections::BTreeMap::new();
        for node in &tree.nodes {
            steps.insert(
                node.id.clone(),
                StepMeta {
                    question: node.question.clone(),
                    label: None,
                    url: format!("/{}", node_url(tree, &node.id)),
                    next: None,
                    fix: false,
                    severity: None,
                    outage: false,
                },
            );
            for choice in &node.options {
                let next = match &choice.goal {
                    Goal::Next { node, .. } => Some(node.clone()),
                    _ => None,
                };
                steps.insert(
                    format!("{}/{}", node.id, choice.id),
                    StepMeta {
                        question: node.question.clone(),
                        label: Some(choice.label.clone()),
                        url: format!("/{}", tree.option_url(&node.id, choice)),
                        next,
                        fix: choice.goal.is_fix(),
                        severity: choice.severity,
                        outage: choice.outage,
                    },
                );
            }
        }
        TreeMeta {
            id: tree.id.clone(),
            title: tree.title.clone(),
            lang: tree.lang.clone().unwrap_or_else(|| language.to_string()),
            start: tree.start.clone(),
            steps,
        }
    }

    /// Checks a path of answers (`who/only-me`, `what/sound`, …) as a ticket or an event
    /// names it: each an answer of this tree, the first answering the first question, each
    /// answering the question the one before led to.
    pub fn check_path(&self, path: &[&str]) -> Result<(), String> {
        let mut expect = self.start.as_str();
        for (i, step) in path.iter().enumerate() {
            let meta = self
                .steps
                .get(*step)
                .filter(|m| m.label.is_some())
                .ok_or_else(|| format!("`{step}` is not an answer of tree `{}`", self.id))?;
            let node = step.split('/').next().unwrap_or("");
            if node != expect {
                return Err(format!(
                    "`{step}` does not answer question `{expect}` (answer {} of the path)",
                    i + 1
                ));
            }
            match &meta.next {
                Some(next) => expect = next,
                None if i + 1 < path.len() => {
                    return Err(format!("`{step}` ends the tree, but the path goes on"));
                }
                None => {}
            }
        }
        Ok(())
    }
}

/// Reads `.helpbook/triage.json` of the site built into `out_dir`; no trees when the build
/// predates the file.
pub fn read_meta(out_dir: &std::path::Path) -> Result<Vec<TreeMeta>, String> {
    let path = out_dir.join(TRIAGE_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| format!("{}: {e} (rebuild the site)", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// What [`check_targets`] needs to know about the site's pages.
pub trait Pages {
    /// Whether the page exists, by path under the content folder; `None` when it does not,
    /// otherwise the heading ids it has.
    fn headings(&self, source: &str) -> Option<Vec<String>>;
    /// A suggestion for a missing page.
    fn suggest(&self, source: &str) -> String;
}

/// Checks every `page` of `trees` against the site's pages, and that tree ids are unique.
/// `shown` turns a tree's source into the path shown in messages.
pub fn check_targets(
    trees: &[Tree],
    pages: &dyn Pages,
    shown: &dyn Fn(&str) -> String,
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut ids: HashMap<&str, &Tree> = HashMap::new();
    for tree in trees {
        let place = |d: Diagnostic| {
            d.in_file(shown(&tree.source))
                .with_source(tree.text.clone())
        };
        if let Some(first) = ids.get(tree.id.as_str()) {
            let (line, column) = id_place(tree);
            diags.push(place(
                Diagnostic::error(format!(
                    "tree id `{}` is also the id of `{}`",
                    tree.id,
                    shown(&first.source)
                ))
                .at(line, column)
                .help("tree ids name the tree's pages: give each tree its own"),
            ));
        } else {
            ids.insert(&tree.id, tree);
        }
        for node in &tree.nodes {
            for choice in &node.options {
                let Goal::Page { source, anchor, at } = &choice.goal else {
                    continue;
                };
                match pages.headings(source) {
                    None => diags.push(place(
                        Diagnostic::error(format!(
                            "option `{}` of node `{}` leads to `{source}`, which does not exist",
                            choice.label, node.id
                        ))
                        .at(at.line, at.column)
                        .help(format!(
                            "{} (paths in a tree are relative to the content folder)",
                            pages.suggest(source)
                        )),
                    )),
                    Some(headings) => {
                        if let Some(anchor) = anchor
                            && !headings.iter().any(|h| h == anchor)
                        {
                            let mut close = headings.clone();
                            close.sort_by_cached_key(|h| crate::content::edit_distance(h, anchor));
                            let list: Vec<String> =
                                close.iter().take(4).map(|h| format!("#{h}")).collect();
                            diags.push(place(
                                Diagnostic::error(format!(
                                    "option `{}` of node `{}` leads to `{source}#{anchor}`, but that page has no heading `#{anchor}`",
                                    choice.label, node.id
                                ))
                                .at(at.line, at.column)
                                .help(if list.is_empty() {
                                    "the page has no headings".to_string()
                                } else {
                                    format!("headings there: {}", list.join(", "))
                                }),
                            ));
                        }
                    }
                }
            }
        }
    }
    diags
}

/// Line and column of the top-level `id:` of a tree.
fn id_place(tree: &Tree) -> (usize, usize) {
    tree.text
        .lines()
        .position(|l| l.starts_with("id:"))
        .map_or((1, 1), |i| (i + 1, 1))
}

// --- The YAML as written ---------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTree {
    id: Spanned<String>,
    title: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    audience: Option<Audience>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    symptoms: Vec<String>,
    #[serde(default)]
    weight: i64,
    start: Spanned<String>,
    nodes: Spanned<RawNodes>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    question: String,
    #[serde(default)]
    help: Option<Spanned<String>>,
    #[serde(default)]
    options: Option<Spanned<Vec<RawChoice>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChoice {
    label: Spanned<String>,
    #[serde(default)]
    id: Option<Spanned<String>>,
    #[serde(default)]
    next: Option<Spanned<String>>,
    #[serde(default)]
    page: Option<Spanned<String>>,
    #[serde(default)]
    answer: Option<Spanned<String>>,
    #[serde(default)]
    severity: Option<Urgency>,
    #[serde(default)]
    outage: bool,
}

/// The `nodes:` mapping, in file order, each key with its place.
struct RawNodes(Vec<(Spanned<String>, RawNode)>);

impl<'de> Deserialize<'de> for RawNodes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NodesVisitor;
        impl<'de> Visitor<'de> for NodesVisitor {
            type Value = RawNodes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping from node ids to questions")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNodes, A::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    let node: RawNode = map.next_value()?;
                    out.push((key, node));
                }
                Ok(RawNodes(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawNodes, E> {
                Ok(RawNodes(Vec::new()))
            }
        }
        deserializer.deserialize_map(NodesVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(yaml: &str) -> (Option<Tree>, Vec<Diagnostic>) {
        parse(Arc::from(yaml), "triage/t.yaml", "content/triage/t.yaml")
    }

    fn errors(yaml: &str) -> Vec<String> {
        read(yaml).1.iter().map(|d| d.to_string()).collect()
    }

    const GOOD: &str = "\
id: live-class
title: Something is wrong in my live class
start: who
nodes:
  who:
    question: Is it only you, or the whole class?
    help: |
      Ask one student to say something.
    options:
      - label: Only me
        next: what
      - label: Everyone, in every class
        page: troubleshooting/outage.md#first
        severity: urgent
        outage: true
  what:
    question: Sound or picture?
    options:
      - { label: Sound, answer: Unmute yourself. }
      - { label: Picture, id: pic, page: video.md }
";

    #[test]
    fn a_good_tree_reads_with_places() {
        let (tree, diags) = read(GOOD);
        assert!(diags.is_empty(), "{diags:?}");
        let tree = tree.unwrap();
        assert_eq!(tree.start, "who");
        assert_eq!(tree.nodes.len(), 2);
        let who = tree.node("who").unwrap();
        assert_eq!(who.at, Place { line: 5, column: 3 });
        assert_eq!(who.help.as_ref().unwrap().line, 8);
        assert_eq!(who.options[0].id, "only-me");
        assert_eq!(who.options[1].id, "everyone-in-every-class");
        assert!(who.options[1].outage);
        assert_eq!(who.options[1].severity, Some(Urgency::Urgent));
        assert_eq!(
            who.options[1].goal,
            Goal::Page {
                source: "troubleshooting/outage.md".into(),
                anchor: Some("first".into()),
                at: Place {
                    line: 13,
                    column: 15
                }
            }
        );
        let what = tree.node("what").unwrap();
        assert_eq!(what.options[1].id, "pic");
        assert_eq!(tree.trail("what").len(), 1);
        assert_eq!(tree.trail("what")[0].0.id, "who");
    }

    #[test]
    fn unknown_node_is_reported_at_the_next_value() {
        let yaml = GOOD.replace("next: what", "next: wat");
        let e = errors(&yaml);
        assert!(
            e.iter().any(|e| e.starts_with(
                "content/triage/t.yaml:11:15: error: option `Only me` of node `who` leads to node `wat`, which does not exist (help: did you mean `what`?)"
            )),
            "{e:#?}"
        );
        // And `what` is now unreachable.
        assert!(
            e.iter()
                .any(|e| e.contains("16:3: error: node `what` cannot be reached")),
            "{e:#?}"
        );
    }

    #[test]
    fn cycles_name_the_loop() {
        let yaml = GOOD.replace("answer: Unmute yourself.", "next: who");
        let e = errors(&yaml);
        assert_eq!(e.len(), 1, "{e:#?}");
        assert!(
            e[0].contains(
                ":19:31: error: option `Sound` of node `what` leads back to `who`: who → what → who"
            ),
            "{e:#?}"
        );
    }

    #[test]
    fn options_need_exactly_one_target() {
        let yaml = GOOD.replace("answer: Unmute yourself.", "answer: x, next: what");
        let e = errors(&yaml);
        assert!(
            e.iter().any(|e| e.contains(
                ":19:18: error: option `Sound` of node `what` has both `next` and `answer`"
            )),
            "{e:#?}"
        );
        let yaml = GOOD.replace(", answer: Unmute yourself.", "");
        let e = errors(&yaml);
        assert!(
            e.iter()
                .any(|e| e.contains(":19:18: error: option `Sound` of node `what` leads nowhere")),
            "{e:#?}"
        );
    }

    #[test]
    fn a_node_without_options_is_an_error() {
        let yaml = format!("{GOOD}  lost:\n    question: Where?\n");
        let e = errors(&yaml);
        assert!(
            e.iter()
                .any(|e| e.contains(":21:3: error: node `lost` has no options")),
            "{e:#?}"
        );
        assert!(
            e.iter()
                .any(|e| e.contains("node `lost` cannot be reached"))
        );
    }

    #[test]
    fn yaml_mistakes_point_at_the_file() {
        let e = errors(&GOOD.replace("question: Sound", "questoin: Sound"));
        assert!(
            e[0].starts_with(
                "content/triage/t.yaml:17:5: error: triage tree: unknown field `questoin`"
            ),
            "{e:#?}"
        );
        let e = errors(&GOOD.replace("  what:\n", "  who:\n"));
        assert!(e[0].contains(":16:"), "duplicate node id: {e:#?}");
        let e = errors(&GOOD.replace("start: who", "start: whom"));
        assert!(
            e[0].contains(":3:8: error: `start` names node `whom`, which does not exist"),
            "{e:#?}"
        );
    }

    #[test]
    fn missing_pages_and_anchors_are_reported() {
        struct Site;
        impl Pages for Site {
            fn headings(&self, source: &str) -> Option<Vec<String>> {
                (source == "troubleshooting/outage.md").then(|| vec!["first-steps".to_string()])
            }
            fn suggest(&self, _: &str) -> String {
                "check the path".into()
            }
        }
        let tree = read(GOOD).0.unwrap();
        let mut other = tree.clone();
        other.source = "triage/u.yaml".into();
        let e: Vec<String> = check_targets(&[tree, other], &Site, &|s| format!("content/{s}"))
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert!(e.iter().any(|e| e.starts_with("content/triage/t.yaml:13:15: error: option `Everyone, in every class` of node `who` leads to `troubleshooting/outage.md#first`, but that page has no heading `#first` (help: headings there: #first-steps)")), "{e:#?}");
        assert!(e.iter().any(|e| e.starts_with("content/triage/t.yaml:20:42: error: option `Picture` of node `what` leads to `video.md`, which does not exist")), "{e:#?}");
        assert!(
            e.iter().any(|e| e.starts_with(
                "content/triage/u.yaml:1:1: error: tree id `live-class` is also the id of `content/triage/t.yaml`"
            )),
            "{e:#?}"
        );
    }
}
