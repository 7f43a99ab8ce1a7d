//! `book.toml` -> [`Config`].
//!
//! helpbook reads mdBook's `book.toml` as it is, so an existing mdBook builds unchanged: the
//! `[book]` and `[build]` keys mdBook defines mean the same here, the parts of `[output.html]`
//! that have a meaning for a help site are honoured (extra CSS and JS, repository URL, edit link,
//! redirects) and everything else mdBook-specific is reported once as ignored. helpbook's own
//! keys live in the same tables; an unknown key there is an error naming the key and its line.
//!
//! Loading happens in three visible steps: parse (with environment overrides of the form
//! `HELPBOOK_<SECTION>__<KEY>`), validate, then fill computed fields such as absolute paths.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use crate::diagnostic::{Diagnostic, line_col};

/// The configuration file's name.
pub const CONFIG_FILE: &str = "book.toml";

/// The prefix of environment overrides: `HELPBOOK_BOOK__TITLE="My help"`.
pub const ENV_PREFIX: &str = "HELPBOOK_";

/// A site's configuration, validated and with paths resolved.
#[derive(Debug, Clone)]
pub struct Config {
    /// The site root (the folder holding `book.toml`).
    pub root: PathBuf,
    /// `[book]`.
    pub book: BookConfig,
    /// `[build]`.
    pub build: BuildConfig,
    /// `[search]`.
    pub search: SearchConfig,
    /// `[server]`.
    pub server: ServerConfig,
    /// `[check]`.
    pub check: CheckConfig,
    /// What was kept of mdBook's `[output.html]`.
    pub html: HtmlConfig,
    /// Absolute path of the content folder.
    pub src_dir: PathBuf,
    /// Absolute path of the output folder.
    pub out_dir: PathBuf,
    /// Absolute path of the site's own theme folder (it may not exist).
    pub theme_dir: PathBuf,
}

/// `[book]`: mdBook's keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct BookConfig {
    /// Site title, shown in the header and the window title.
    pub title: Option<String>,
    /// Authors, for the page metadata.
    pub authors: Vec<String>,
    /// One sentence describing the site.
    pub description: Option<String>,
    /// Language of the site and its interface strings: `en` or `zh` (`zh-CN`, `zh-Hans`…).
    pub language: String,
    /// Content folder, relative to the root. Default: `content/`, or `src/` when only that
    /// exists (an mdBook).
    pub src: Option<PathBuf>,
    /// mdBook's flag; accepted, has no effect.
    pub multilingual: Option<bool>,
    /// `ltr` or `rtl`.
    pub text_direction: Option<String>,
}

impl Default for BookConfig {
    fn default() -> Self {
        BookConfig {
            title: None,
            authors: Vec::new(),
            description: None,
            language: "en".into(),
            src: None,
            multilingual: None,
            text_direction: None,
        }
    }
}

/// What to do with a link to a missing page or anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkPolicy {
    /// Fail the build (the default).
    #[default]
    Error,
    /// Report it and go on.
    Warn,
}

/// `[build]`: mdBook's keys plus helpbook's own.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct BuildConfig {
    /// Output folder, relative to the root. Default `public`.
    pub build_dir: PathBuf,
    /// mdBook's flag; accepted, has no effect (helpbook never writes into the content folder).
    pub create_missing: Option<bool>,
    /// mdBook's flag; accepted, has no effect (includes are always expanded).
    pub use_default_preprocessors: Option<bool>,
    /// Extra folders the preview server watches.
    pub extra_watch_dirs: Vec<PathBuf>,
    /// `error` (default) or `warn`: what a link to a missing page or anchor does.
    pub broken_links: LinkPolicy,
    /// Build pages marked `draft: true` too (default false).
    pub drafts: bool,
    /// Public address of the site, such as `https://help.example.com/`; used for absolute URLs
    /// in `sitemap.xml` and the root of `404.html`.
    pub base_url: Option<String>,
}

impl Default for BuildConfig {
    fn default() -> Self {
        BuildConfig {
            build_dir: PathBuf::from("public"),
            create_missing: None,
            use_default_preprocessors: None,
            extra_watch_dirs: Vec::new(),
            broken_links: LinkPolicy::Error,
            drafts: false,
            base_url: None,
        }
    }
}

/// `[search]`: the full-text index written next to the output.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct SearchConfig {
    /// Build the search index (default true).
    pub enable: bool,
    /// Domain words the Chinese segmenter must keep whole (`卡顿`, `白板`), on top of the
    /// built-in list and the Chinese phrases of `synonyms.yaml`.
    pub extra_words: Vec<String>,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            enable: true,
            extra_words: Vec::new(),
        }
    }
}

/// What a `helpbook check` rule does with what it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleLevel {
    /// Reported, and `check` exits non-zero.
    Error,
    /// Reported; `check` still succeeds (unless `--strict`).
    Warn,
    /// Not checked.
    Off,
}

/// `[check.rules]`: each rule of `helpbook check` set to `error`, `warn` or `off`. Unset rules
/// keep their defaults (see [`CheckRules::level`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct CheckRules {
    /// A page neither in navigation nor linked from another page (default warn).
    pub orphan_page: Option<RuleLevel>,
    /// A page without a `description` in its front matter (default warn).
    pub missing_description: Option<RuleLevel>,
    /// Two pages with the same title (default warn).
    pub duplicate_title: Option<RuleLevel>,
    /// An image without alternative text (default error).
    pub image_alt: Option<RuleLevel>,
    /// A page whose `updated` date is older than `stale-after-days` (default warn).
    pub stale_page: Option<RuleLevel>,
    /// A glossary term used without explanation in a plain-language page (default warn).
    pub jargon: Option<RuleLevel>,
    /// A sentence over the length limit in a plain-language page (default warn).
    pub long_sentence: Option<RuleLevel>,
    /// A numbered step written in the passive voice in a plain-language page (default warn).
    pub passive_step: Option<RuleLevel>,
    /// A search test of `search-tests.yaml` that fails (default error).
    pub search_test: Option<RuleLevel>,
    /// A broken external link, with `--external` (default error).
    pub external_link: Option<RuleLevel>,
}

/// A rule of `helpbook check`, named in `[check.rules]` and in its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// `orphan-page`.
    OrphanPage,
    /// `missing-description`.
    MissingDescription,
    /// `duplicate-title`.
    DuplicateTitle,
    /// `image-alt`.
    ImageAlt,
    /// `stale-page`.
    StalePage,
    /// `jargon`.
    Jargon,
    /// `long-sentence`.
    LongSentence,
    /// `passive-step`.
    PassiveStep,
    /// `search-test`.
    SearchTest,
    /// `external-link`.
    ExternalLink,
}

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 10] = [
        Rule::OrphanPage,
        Rule::MissingDescription,
        Rule::DuplicateTitle,
        Rule::ImageAlt,
        Rule::StalePage,
        Rule::Jargon,
        Rule::LongSentence,
        Rule::PassiveStep,
        Rule::SearchTest,
        Rule::ExternalLink,
    ];

    /// The name written in `[check.rules]` and reports.
    pub fn name(self) -> &'static str {
        match self {
            Rule::OrphanPage => "orphan-page",
            Rule::MissingDescription => "missing-description",
            Rule::DuplicateTitle => "duplicate-title",
            Rule::ImageAlt => "image-alt",
            Rule::StalePage => "stale-page",
            Rule::Jargon => "jargon",
            Rule::LongSentence => "long-sentence",
            Rule::PassiveStep => "passive-step",
            Rule::SearchTest => "search-test",
            Rule::ExternalLink => "external-link",
        }
    }
}

impl CheckRules {
    /// The level of `rule`: what book.toml says, or its default.
    pub fn level(&self, rule: Rule) -> RuleLevel {
        use RuleLevel::{Error, Warn};
        let (set, default) = match rule {
            Rule::OrphanPage => (self.orphan_page, Warn),
            Rule::MissingDescription => (self.missing_description, Warn),
            Rule::DuplicateTitle => (self.duplicate_title, Warn),
            Rule::ImageAlt => (self.image_alt, Error),
            Rule::StalePage => (self.stale_page, Warn),
            Rule::Jargon => (self.jargon, Warn),
            Rule::LongSentence => (self.long_sentence, Warn),
            Rule::PassiveStep => (self.passive_step, Warn),
            Rule::SearchTest => (self.search_test, Error),
            Rule::ExternalLink => (self.external_link, Error),
        };
        set.unwrap_or(default)
    }
}

/// `[check]`: what `helpbook check` looks for beyond what `build` validates.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct CheckConfig {
    /// A page whose `updated` date is older than this many days is stale (default 365).
    pub stale_after_days: u32,
    /// Audiences whose pages get the plain-language lint (default `["teacher"]`).
    pub plain_language: Vec<String>,
    /// Longest sentence in words, for English plain-language pages (default 25).
    pub sentence_words: usize,
    /// Longest sentence in characters, for Chinese plain-language pages (default 40).
    pub sentence_chars: usize,
    /// External links checked at once, with `--external` (default 8).
    pub external_concurrency: usize,
    /// Seconds an external link may take to answer (default 10).
    pub external_timeout: u64,
    /// Milliseconds between two requests to the same host (default 500).
    pub external_host_delay: u64,
    /// Hours a good answer is trusted before the link is checked again (default 24).
    pub external_cache_hours: u64,
    /// Addresses (prefixes) never requested, e.g. sites that refuse automated checks.
    pub external_skip: Vec<String>,
    /// Each rule's level.
    pub rules: CheckRules,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            stale_after_days: 365,
            plain_language: vec!["teacher".into()],
            sentence_words: 25,
            sentence_chars: 40,
            external_concurrency: 8,
            external_timeout: 10,
            external_host_delay: 500,
            external_cache_hours: 24,
            external_skip: Vec::new(),
            rules: CheckRules::default(),
        }
    }
}

/// Most search answers the server may keep in memory (about 5 KB each).
pub const MAX_SEARCH_CACHE: usize = 100_000;

/// Shortest admin token accepted: a short one can be guessed.
pub const MIN_ADMIN_TOKEN: usize = 16;

/// `[server]`: the reader-facing server (`helpbook serve --production`) and its event store.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ServerConfig {
    /// Where events and tickets are stored: a SQLite file, relative to the root (default
    /// `.helpbook/events.sqlite`), or a `postgres://` URL, which several servers can share.
    pub events: String,
    /// Days events are kept before they are purged (default 90).
    pub retention_days: u32,
    /// The token `/admin` asks for. Better set in the environment:
    /// `HELPBOOK_SERVER__ADMIN_TOKEN`. Without one, `/admin` is closed.
    pub admin_token: Option<String>,
    /// URL that receives each new ticket as JSON (POST), retried until it answers 2xx.
    pub webhook: Option<String>,
    /// Requests a client may make per minute (default 600).
    pub rate_limit: u32,
    /// Behind a reverse proxy: take the client's address for the rate limit from
    /// `X-Forwarded-For` / `X-Real-IP` / `Forwarded` (default false: the peer address).
    pub trust_proxy: bool,
    /// Answers of `/api/search` kept in memory (default 4096; 0 turns the cache off).
    pub search_cache: usize,
    /// Readers who, within `outage-window-minutes`, give a triage answer marked `outage: true`
    /// before the known-problem banner shows (default 10; 0 turns the signal off).
    pub outage_threshold: u32,
    /// The window of the outage signal, in minutes (default 15).
    pub outage_window_minutes: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            events: ".helpbook/events.sqlite".into(),
            retention_days: 90,
            admin_token: None,
            webhook: None,
            rate_limit: 600,
            trust_proxy: false,
            search_cache: 4096,
            outage_threshold: 10,
            outage_window_minutes: 15,
        }
    }
}

impl ServerConfig {
    /// The event store's location: a `postgres://` URL as it is, a file relative to `root`.
    pub fn events_location(&self, root: &Path) -> String {
        let e = self.events.trim();
        if e.starts_with("postgres://") || e.starts_with("postgresql://") {
            e.to_string()
        } else {
            root.join(e.strip_prefix("sqlite://").unwrap_or(e))
                .to_string_lossy()
                .into_owned()
        }
    }
}

/// The parts of mdBook's `[output.html]` that helpbook honours.
#[derive(Debug, Clone, Default)]
pub struct HtmlConfig {
    /// Extra stylesheets, relative to the root, copied and linked from every page.
    pub additional_css: Vec<PathBuf>,
    /// Extra scripts, relative to the root, copied and linked from every page.
    pub additional_js: Vec<PathBuf>,
    /// Link to the source repository, shown in the header.
    pub git_repository_url: Option<String>,
    /// "Edit this page" link; `{path}` is replaced by the page's path under the content folder.
    pub edit_url_template: Option<String>,
    /// Old path -> new URL: a redirect page is written at each old path.
    pub redirect: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawConfig {
    book: BookConfig,
    build: BuildConfig,
    search: SearchConfig,
    server: ServerConfig,
    check: CheckConfig,
    /// mdBook renderers; only `html` is read.
    output: toml::Table,
    /// mdBook preprocessors; reported as ignored.
    preprocessor: toml::Table,
    /// mdBook's `[rust]` (edition for playground code); ignored silently.
    rust: toml::Table,
}

/// The mdBook `[output.html]` keys helpbook uses; every other key there is reported once.
const HONOURED_HTML_KEYS: &[&str] = &[
    "additional-css",
    "additional-js",
    "git-repository-url",
    "edit-url-template",
    "redirect",
    "site-url",
];

impl Config {
    /// Loads `book.toml` from `root` (a missing file means all defaults), applying
    /// `HELPBOOK_<SECTION>__<KEY>` overrides from `env`. Returns the config and notes about
    /// ignored mdBook settings, or every error found.
    pub fn load(
        root: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(Config, Vec<Diagnostic>), Vec<Diagnostic>> {
        let path = root.join(CONFIG_FILE);
        let text = match std::fs::read(&path) {
            Ok(bytes) => String::from_utf8(bytes).map_err(|e| {
                vec![
                    Diagnostic::error(format!(
                        "not valid UTF-8 (invalid byte at offset {})",
                        e.utf8_error().valid_up_to()
                    ))
                    .in_file(CONFIG_FILE)
                    .help("save book.toml with UTF-8 encoding"),
                ]
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(vec![
                    Diagnostic::error(format!("cannot read: {e}")).in_file(CONFIG_FILE),
                ]);
            }
        };
        Config::from_str(root, &text, env)
    }

    /// Like [`Config::load`], from the text of a `book.toml`.
    pub fn from_str(
        root: &Path,
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(Config, Vec<Diagnostic>), Vec<Diagnostic>> {
        // Step 1: parse. The typed parse of the file as written gives errors with spans.
        let source: Arc<str> = Arc::from(text);
        let toml_error = |e: toml::de::Error, origin: Option<&str>| {
            let mut d = Diagnostic::error(e.message().trim().to_string()).in_file(CONFIG_FILE);
            if let Some(origin) = origin {
                d = d.help(format!(
                    "the value comes from the environment variable {origin}"
                ));
            } else if let Some(span) = e.span() {
                let (line, col) = line_col(text, span.start);
                d = d.at(line, col).with_source(source.clone());
            }
            if d.message.contains("unknown field") {
                d.help.get_or_insert_with(|| {
                    "remove the key or fix its spelling; see the book.toml reference in README.md"
                        .into()
                });
            }
            d
        };
        let mut raw: RawConfig = toml::from_str(text).map_err(|e| vec![toml_error(e, None)])?;

        let overrides = env_overrides(env);
        if !overrides.is_empty() {
            let mut table: toml::Table =
                toml::from_str(text).map_err(|e| vec![toml_error(e, None)])?;
            let mut names = Vec::new();
            for (var, keys, value) in overrides {
                set_path(&mut table, &keys, value);
                names.push(var);
            }
            let joined = names.join(", ");
            raw = toml::Table::try_into(table).map_err(|e| vec![toml_error(e, Some(&joined))])?;
        }

        // Step 2: validate, collecting notes about what an mdBook config carries that we ignore.
        let mut notes = Vec::new();
        let mut errors = Vec::new();
        let html = html_config(&raw.output, &mut notes, &mut errors);
        for name in raw.preprocessor.keys() {
            if name != "links" && name != "index" {
                notes.push(Diagnostic::note(format!(
                    "[preprocessor.{name}] is ignored: helpbook does not run mdBook preprocessors"
                )).in_file(CONFIG_FILE));
            }
        }
        if let Some(url) = &raw.build.base_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            errors.push(
                Diagnostic::error(format!(
                    "build.base-url `{url}` is not an absolute http(s) URL"
                ))
                .in_file(CONFIG_FILE)
                .help("write it like base-url = \"https://help.example.com/\""),
            );
        }
        if let Some(url) = &raw.server.webhook
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            errors.push(
                Diagnostic::error(format!("server.webhook `{url}` is not an http(s) URL"))
                    .in_file(CONFIG_FILE)
                    .help("write it like webhook = \"https://support.example.com/hooks/helpbook\""),
            );
        }
        if raw.server.outage_window_minutes == 0 || raw.server.outage_window_minutes > 24 * 60 {
            errors.push(
                Diagnostic::error(format!(
                    "server.outage-window-minutes is {}; it must be from 1 to 1440 (a day)",
                    raw.server.outage_window_minutes
                ))
                .in_file(CONFIG_FILE)
                .help("the default, 15, catches a fault while it is happening; turn the signal off with outage-threshold = 0"),
            );
        }
        if raw.server.search_cache > MAX_SEARCH_CACHE {
            errors.push(
                Diagnostic::error(format!(
                    "server.search-cache is {}; at most {MAX_SEARCH_CACHE} answers can be kept",
                    raw.server.search_cache
                ))
                .in_file(CONFIG_FILE)
                .help(
                    "the default, 4096, serves the questions readers repeat; 0 turns the cache off",
                ),
            );
        }
        if let Some(token) = &raw.server.admin_token
            && token.chars().count() < MIN_ADMIN_TOKEN
        {
            errors.push(
                Diagnostic::error(format!(
                    "server.admin-token is shorter than {MIN_ADMIN_TOKEN} characters"
                ))
                .in_file(CONFIG_FILE)
                .help("use a long random token, e.g. the output of `openssl rand -hex 24`, and set it in HELPBOOK_SERVER__ADMIN_TOKEN rather than in the file"),
            );
        }
        for audience in &raw.check.plain_language {
            if crate::content::Audience::from_name(audience).is_none() {
                errors.push(
                    Diagnostic::error(format!(
                        "check.plain-language lists `{audience}`, which is not an audience"
                    ))
                    .in_file(CONFIG_FILE)
                    .help("use the audiences of front matter: teacher, student, developer, admin, support, everyone"),
                );
            }
        }
        if raw.check.external_concurrency == 0 || raw.check.external_timeout == 0 {
            errors.push(
                Diagnostic::error(
                    "check.external-concurrency and check.external-timeout must be at least 1",
                )
                .in_file(CONFIG_FILE)
                .help("the defaults are 8 links at once and 10 seconds"),
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }

        // Step 3: computed fields.
        let src = raw.book.src.clone().unwrap_or_else(|| {
            if !root.join("content").is_dir() && root.join("src").is_dir() {
                PathBuf::from("src")
            } else {
                PathBuf::from("content")
            }
        });
        let config = Config {
            root: root.to_path_buf(),
            src_dir: root.join(src),
            out_dir: root.join(&raw.build.build_dir),
            theme_dir: root.join("theme"),
            book: raw.book,
            build: raw.build,
            search: raw.search,
            server: raw.server,
            check: raw.check,
            html,
        };
        Ok((config, notes))
    }

    /// The site title, or a neutral default.
    pub fn title(&self) -> &str {
        self.book.title.as_deref().unwrap_or("Help Center")
    }

    /// Overrides the output folder (the `-d` flag).
    pub fn set_out_dir(&mut self, dir: &Path) {
        self.out_dir = if dir.is_absolute() {
            dir.to_path_buf()
        } else {
            std::env::current_dir()
                .map(|cwd| cwd.join(dir))
                .unwrap_or_else(|_| dir.to_path_buf())
        };
    }
}

/// Reads `[output.html]` (mdBook's renderer settings), keeping what maps to helpbook.
fn html_config(
    output: &toml::Table,
    notes: &mut Vec<Diagnostic>,
    errors: &mut Vec<Diagnostic>,
) -> HtmlConfig {
    let mut html = HtmlConfig::default();
    for name in output.keys().filter(|k| *k != "html") {
        notes.push(
            Diagnostic::note(format!(
                "[output.{name}] is ignored: helpbook writes HTML only"
            ))
            .in_file(CONFIG_FILE),
        );
    }
    let Some(toml::Value::Table(table)) = output.get("html") else {
        return html;
    };
    let paths = |key: &str, errors: &mut Vec<Diagnostic>| -> Vec<PathBuf> {
        match table.get(key) {
            None => Vec::new(),
            Some(toml::Value::Array(items)) => items
                .iter()
                .filter_map(|v| match v.as_str() {
                    Some(s) => Some(PathBuf::from(s)),
                    None => {
                        errors.push(
                            Diagnostic::error(format!("output.html.{key} must list file paths"))
                                .in_file(CONFIG_FILE),
                        );
                        None
                    }
                })
                .collect(),
            Some(_) => {
                errors.push(
                    Diagnostic::error(format!("output.html.{key} must be a list of paths"))
                        .in_file(CONFIG_FILE)
                        .help(format!("write {key} = [\"theme/custom.css\"]")),
                );
                Vec::new()
            }
        }
    };
    html.additional_css = paths("additional-css", errors);
    html.additional_js = paths("additional-js", errors);
    let string = |key: &str| table.get(key).and_then(|v| v.as_str()).map(str::to_string);
    html.git_repository_url = string("git-repository-url");
    html.edit_url_template = string("edit-url-template");
    if let Some(toml::Value::Table(redirects)) = table.get("redirect") {
        for (from, to) in redirects {
            match to.as_str() {
                Some(to) => {
                    html.redirect.insert(from.clone(), to.to_string());
                }
                None => errors.push(
                    Diagnostic::error(format!("output.html.redirect.\"{from}\" must be a string"))
                        .in_file(CONFIG_FILE),
                ),
            }
        }
    }
    let ignored: Vec<&str> = table
        .keys()
        .map(String::as_str)
        .filter(|k| !HONOURED_HTML_KEYS.contains(k))
        .collect();
    if !ignored.is_empty() {
        notes.push(
            Diagnostic::note(format!(
                "[output.html] keys with no meaning for helpbook are ignored: {}",
                ignored.join(", ")
            ))
            .in_file(CONFIG_FILE),
        );
    }
    html
}

/// `HELPBOOK_BUILD__BUILD_DIR=out` -> ("HELPBOOK_BUILD__BUILD_DIR", ["build", "build-dir"], "out").
fn env_overrides(
    env: impl IntoIterator<Item = (String, String)>,
) -> Vec<(String, Vec<String>, toml::Value)> {
    let mut out: Vec<_> = env
        .into_iter()
        .filter_map(|(name, value)| {
            let rest = name.strip_prefix(ENV_PREFIX)?;
            if !rest.contains("__") {
                return None;
            }
            let keys: Vec<String> = rest
                .split("__")
                .map(|k| k.to_ascii_lowercase().replace('_', "-"))
                .collect();
            if keys.iter().any(String::is_empty) {
                return None;
            }
            let parsed = format!("v = {value}")
                .parse::<toml::Table>()
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or(toml::Value::String(value));
            Some((name, keys, parsed))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn set_path(table: &mut toml::Table, keys: &[String], value: toml::Value) {
    let (last, parents) = keys.split_last().expect("at least one key");
    let mut current = table;
    for key in parents {
        let entry = current
            .entry(key.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        current = entry.as_table_mut().expect("just made a table");
    }
    current.insert(last.clone(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<(Config, Vec<Diagnostic>), Vec<Diagnostic>> {
        Config::from_str(Path::new("/site"), text, Vec::new())
    }

    #[test]
    fn defaults_without_a_file() {
        let (config, notes) = load("").unwrap();
        assert_eq!(config.book.language, "en");
        assert_eq!(config.out_dir, Path::new("/site/public"));
        assert_eq!(config.src_dir, Path::new("/site/content"));
        assert!(notes.is_empty());
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let errors = load("[book]\ntitle = \"x\"\ntitel = \"y\"\n").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("titel"), "{}", errors[0].message);
        assert_eq!(errors[0].line, 3);
    }

    #[test]
    fn mdbook_output_html_is_honoured_and_the_rest_noted() {
        let (config, notes) = load(
            "[book]\ntitle = \"T\"\n[output.html]\nadditional-css = [\"x.css\"]\nmathjax-support = true\n[output.html.redirect]\n\"/old.html\" = \"new.html\"\n[preprocessor.katex]\n",
        )
        .unwrap();
        assert_eq!(config.html.additional_css, vec![PathBuf::from("x.css")]);
        assert_eq!(config.html.redirect["/old.html"], "new.html");
        let notes: Vec<String> = notes.iter().map(|n| n.message.clone()).collect();
        assert!(
            notes.iter().any(|n| n.contains("mathjax-support")),
            "{notes:?}"
        );
        assert!(notes.iter().any(|n| n.contains("katex")), "{notes:?}");
    }

    #[test]
    fn environment_overrides_win() {
        let env = vec![
            ("HELPBOOK_BOOK__TITLE".to_string(), "From env".to_string()),
            ("HELPBOOK_BUILD__BUILD_DIR".to_string(), "out".to_string()),
            ("HELPBOOK_BUILD__DRAFTS".to_string(), "true".to_string()),
            ("UNRELATED".to_string(), "1".to_string()),
        ];
        let (config, _) =
            Config::from_str(Path::new("/s"), "[book]\ntitle = \"file\"\n", env).unwrap();
        assert_eq!(config.book.title.as_deref(), Some("From env"));
        assert_eq!(config.out_dir, Path::new("/s/out"));
        assert!(config.build.drafts);
    }

    #[test]
    fn bad_environment_override_names_the_variable() {
        let env = vec![(
            "HELPBOOK_BUILD__DRAFTS".to_string(),
            "\"maybe\"".to_string(),
        )];
        let errors = Config::from_str(Path::new("/s"), "", env).unwrap_err();
        assert!(
            errors[0]
                .help
                .as_deref()
                .unwrap_or("")
                .contains("HELPBOOK_BUILD__DRAFTS"),
            "{:?}",
            errors[0]
        );
    }
}
