//! The `helpbook` command: parses arguments, calls the library, prints, and maps the outcome to
//! an exit code (0 success, 1 content or I/O errors, 2 usage errors).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use helpbook::content::{Audience, Kind};

/// mimalloc rather than the system allocator: a build allocates millions of small strings on
/// several threads, and mimalloc makes a 10,000-page build about 20 % faster (bench/build.py).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use helpbook::check::{CheckOptions, check};
use helpbook::diagnostic::{Diagnostic, Severity};
use helpbook::search::SearchRequest;
use helpbook::{BuildOptions, build};

/// Turns a folder of Markdown into a self-service help portal.
#[derive(Parser, Debug)]
#[command(name = "helpbook", version, about, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    output: OutputArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug)]
struct OutputArgs {
    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Print notes and timings too.
    #[arg(short, long, global = true)]
    verbose: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build the site: content/ -> static site in public/ (non-zero exit on content errors).
    Build {
        /// The site's folder (holding book.toml).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Output folder (default: build-dir from book.toml, or public/).
        #[arg(short = 'd', long = "dest-dir", value_name = "OUT")]
        dest_dir: Option<PathBuf>,
        /// Also run the search tests in content/search-tests.yaml; a failing test fails the build.
        #[arg(long)]
        check_search: bool,
    },
    /// Check the site without writing anything: everything `build` validates, plus pages no
    /// reader can reach, missing descriptions, duplicate titles, images without alt text, stale
    /// pages, the search tests and the plain-language lint. Exits non-zero on errors.
    Check {
        /// The site's folder (holding book.toml).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Output format: readable findings, or one JSON object for CI.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Also request every link to another site (good answers are kept for a day in
        /// .helpbook/link-cache.json).
        #[arg(long)]
        external: bool,
        /// Fail on warnings too.
        #[arg(long)]
        strict: bool,
    },
    /// Search the site's index from the terminal (building the site first if needed).
    Search {
        /// The site's folder (holding book.toml).
        #[arg(long, default_value = ".", value_name = "DIR")]
        site: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Most results to show.
        #[arg(short = 'n', long, default_value_t = 10)]
        limit: usize,
        /// Only pages of this kind.
        #[arg(long, value_parser = ["guide", "troubleshooting", "reference", "playbook", "faq", "triage"])]
        kind: Option<String>,
        /// Only pages for this audience (pages for everyone always qualify).
        #[arg(long, value_parser = ["teacher", "student", "developer", "admin", "support", "everyone"])]
        audience: Option<String>,
        /// What to search for, in your own words (several arguments are joined by spaces).
        #[arg(value_name = "QUERY", num_args = 0..)]
        query: Vec<String>,
    },
    /// Preview the site while you write: build, serve on 127.0.0.1:3000 with search, rebuild
    /// what a saved file changes and reload the open pages; errors show in the browser.
    Serve {
        /// The site's folder (holding book.toml).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// Port to listen on (0 picks a free one).
        #[arg(short, long, default_value_t = 3000)]
        port: u16,
        /// Open the site in your browser once it is served.
        #[arg(long, conflicts_with = "production")]
        open: bool,
        /// Serve the existing build to readers: record searches and feedback in the event store
        /// of [server] in book.toml, with security headers, compression and rate limits. Nothing
        /// is built: run `helpbook build` first.
        #[arg(long)]
        production: bool,
    },
    /// Report the content gaps: unresolved searches, unhelpful pages, self-service score.
    Gaps {
        /// The site's folder (holding book.toml).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// The period: days, weeks or hours back (`30d`, `2w`, `12h`) or a date (`2026-11-01`).
        #[arg(long, default_value = "30d")]
        since: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: GapsFormat,
        /// Rows in each list.
        #[arg(short = 'n', long, default_value_t = 20)]
        limit: usize,
        /// With --format csv: the pages that did not help instead of the queries.
        #[arg(long)]
        pages: bool,
    },
    /// Create a new knowledge base (book.toml and sample content) that builds as it is.
    Init {
        /// Folder to create it in.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Title of the site.
        #[arg(long, default_value = "Help Center")]
        title: String,
        /// Language of the site's interface: en or zh.
        #[arg(long, default_value = "en")]
        language: String,
    },
}

/// Output format of `search`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Readable results.
    Text,
    /// One JSON object: {"query", "total", "results": [...]}.
    Json,
}

/// Output format of `gaps`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum GapsFormat {
    /// Aligned tables for a terminal.
    Table,
    /// The whole report as one JSON object.
    Json,
    /// One list as CSV (the queries, or the pages with --pages).
    Csv,
}

/// How much to print.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let verbosity = if cli.output.quiet {
        Verbosity::Quiet
    } else if cli.output.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    match cli.command {
        Command::Build {
            dir,
            dest_dir,
            check_search,
        } => run_build(dir, dest_dir, check_search, verbosity),
        Command::Check {
            dir,
            format,
            external,
            strict,
        } => run_check(dir, format, external, strict, verbosity),
        Command::Search {
            site,
            format,
            limit,
            kind,
            audience,
            query,
        } => run_search(
            site,
            format,
            SearchRequest {
                query: query.join(" "),
                limit,
                kind: kind.as_deref().and_then(Kind::from_name),
                audience: audience.as_deref().and_then(Audience::from_name),
            },
            verbosity,
        ),
        Command::Serve {
            dir,
            bind,
            port,
            open,
            production,
        } => {
            if production {
                run_serve(dir, &bind, port, verbosity)
            } else {
                run_preview(dir, &bind, port, open, verbosity)
            }
        }
        Command::Gaps {
            dir,
            since,
            format,
            limit,
            pages,
        } => run_gaps(dir, &since, format, limit, pages, verbosity),
        Command::Init {
            dir,
            title,
            language,
        } => run_init(dir, &title, &language, verbosity),
    }
}

fn print_diagnostics(diagnostics: &[Diagnostic], verbosity: Verbosity) {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    for d in diagnostics {
        let show = match d.severity {
            Severity::Error => true,
            Severity::Warning => verbosity != Verbosity::Quiet,
            Severity::Note => verbosity != Verbosity::Quiet,
        };
        if show {
            eprint!("{}", d.render(color));
        }
    }
}

fn run_build(
    dir: PathBuf,
    dest_dir: Option<PathBuf>,
    check_search: bool,
    verbosity: Verbosity,
) -> ExitCode {
    let mut options = BuildOptions::new(&dir);
    options.out_dir = dest_dir;
    options.check_search = check_search;
    let report = build(&options);
    print_diagnostics(&report.diagnostics, verbosity);
    let seconds = report.elapsed.as_secs_f64();
    if report.failed() {
        let errors = report.errors();
        let warnings = report.warnings();
        eprintln!(
            "error: build failed with {} {}{}; {}",
            errors,
            plural(errors, "error", "errors"),
            if warnings > 0 {
                format!(
                    " and {warnings} {}",
                    plural(warnings, "warning", "warnings")
                )
            } else {
                String::new()
            },
            if report.written.is_some() {
                "the site was written, but fix these before publishing"
            } else {
                "nothing was written"
            }
        );
        return ExitCode::from(1);
    }
    let written = report.written.unwrap_or_default();
    if verbosity != Verbosity::Quiet {
        let out = report
            .out_dir
            .as_deref()
            .map(helpbook::diagnostic::display_path)
            .unwrap_or_default();
        println!(
            "Built {} {} in {:.2} s -> {out}",
            thousands(written.pages),
            plural(written.pages, "page", "pages"),
            seconds
        );
    }
    if verbosity == Verbosity::Verbose {
        println!(
            "  read + render Markdown {:.3} s, templates + write {:.3} s; {} redirects, {} assets",
            report.load_time.as_secs_f64(),
            report.write_time.as_secs_f64(),
            written.redirects,
            written.assets
        );
        if let Some(index) = &report.index {
            println!(
                "  search index: {} sections of {} pages, {:.1} MB ({:.1} KB per page) in {:.3} s",
                thousands(index.sections),
                thousands(index.pages),
                index.bytes as f64 / 1e6,
                index.bytes as f64 / 1e3 / index.pages.max(1) as f64,
                report.index_time.as_secs_f64()
            );
        }
    }
    if let Some(tests) = &report.search_tests
        && verbosity != Verbosity::Quiet
    {
        println!(
            "Search tests: {}/{} passed; MRR@10 {:.3}, zero-result rate {:.1}%",
            tests.passed(),
            tests.outcomes.len(),
            tests.mrr_at_10(),
            tests.zero_result_rate() * 100.0
        );
    }
    ExitCode::SUCCESS
}

fn run_check(
    dir: PathBuf,
    format: Format,
    external: bool,
    strict: bool,
    verbosity: Verbosity,
) -> ExitCode {
    let mut options = CheckOptions::new(&dir);
    options.external = external;
    let report = check(&options);
    let failed = report.failed(strict);
    if format == Format::Json {
        println!("{}", report.to_json());
        return if failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        };
    }
    print_diagnostics(&report.diagnostics, verbosity);
    let errors = report.errors();
    let warnings = report.warnings();
    let counts = format!(
        "{errors} {}, {warnings} {}",
        plural(errors, "error", "errors"),
        plural(warnings, "warning", "warnings")
    );
    if verbosity != Verbosity::Quiet || failed {
        let mut line = format!(
            "Checked {} {} in {:.2} s: {counts}",
            thousands(report.pages),
            plural(report.pages, "page", "pages"),
            report.elapsed.as_secs_f64()
        );
        if let Some((passed, run)) = report.search_tests {
            line.push_str(&format!("; search tests {passed}/{run} passed"));
        }
        if let Some(ext) = report.external {
            line.push_str(&format!(
                "; {} external {} ({} requested, {} from the cache), {} broken",
                ext.urls,
                plural(ext.urls, "link", "links"),
                ext.requested,
                ext.from_cache,
                ext.broken
            ));
        }
        if failed {
            eprintln!("error: {line}");
        } else {
            println!("{line}");
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn run_search(
    site: PathBuf,
    format: Format,
    request: SearchRequest,
    verbosity: Verbosity,
) -> ExitCode {
    let index = match helpbook::open_or_build_index(&site) {
        Ok(index) => index,
        Err(diagnostics) => {
            print_diagnostics(&diagnostics, verbosity);
            eprintln!(
                "error: cannot search {}",
                helpbook::diagnostic::display_path(&site)
            );
            return ExitCode::from(1);
        }
    };
    let results = index.search(&request);
    match format {
        Format::Json => {
            println!(
                "{}",
                serde_json::to_string(&results).expect("results serialise")
            );
        }
        Format::Text => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            print!("{}", text_results(&results, color));
        }
    }
    ExitCode::SUCCESS
}

/// Results for a terminal: numbered, with the snippet's marks in bold when `color`.
fn text_results(results: &helpbook::search::SearchResults, color: bool) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    if results.results.is_empty() {
        let _ = writeln!(out, "No results for “{}”.", results.query.trim());
        if let Some(reason) = &results.reason {
            let _ = writeln!(out, "{reason}");
        }
        return out;
    }
    let _ = writeln!(
        out,
        "{} {} for “{}”{}",
        results.total,
        plural(results.total, "page", "pages"),
        results.query.trim(),
        if results.fuzzy {
            " (close matches)"
        } else {
            ""
        }
    );
    for (i, hit) in results.results.iter().enumerate() {
        let section = if hit.section.is_empty() {
            String::new()
        } else {
            format!(" › {}", hit.section)
        };
        let _ = writeln!(
            out,
            "\n{:>2}. {}{section}  [{}]",
            i + 1,
            hit.title,
            hit.kind
        );
        let _ = writeln!(out, "    {}", hit.url);
        let (on, off) = if color {
            ("\x1b[1;33m", "\x1b[0m")
        } else {
            ("", "")
        };
        let snippet = hit
            .snippet
            .replace("<mark>", on)
            .replace("</mark>", off)
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&");
        if !snippet.is_empty() {
            let _ = writeln!(out, "    {snippet}");
        }
    }
    out
}

fn run_serve(dir: PathBuf, bind: &str, port: u16, verbosity: Verbosity) -> ExitCode {
    let env: Vec<(String, String)> = std::env::vars().collect();
    let config = match helpbook::config::Config::load(&dir, env) {
        Ok((config, notes)) => {
            print_diagnostics(&notes, verbosity);
            config
        }
        Err(errors) => {
            print_diagnostics(&errors, verbosity);
            return ExitCode::from(1);
        }
    };
    let options = helpbook::server::ProductionOptions {
        events: config.server.events_location(&config.root),
        retention_days: config.server.retention_days,
        rate_limit: config.server.rate_limit,
        admin_token: config.server.admin_token.clone(),
        webhook: config.server.webhook.clone(),
        trust_proxy: config.server.trust_proxy,
        search_cache: config.server.search_cache,
        outage_threshold: config.server.outage_threshold,
        outage_window_minutes: config.server.outage_window_minutes,
    };
    let out_dir = config.out_dir;
    let addr = format!("{bind}:{port}");
    let events = helpbook::analytics::hide_password(&options.events);
    match helpbook::server::serve_blocking(&out_dir, &addr, Some(options), |addr| {
        if verbosity != Verbosity::Quiet {
            println!(
                "Serving {} at http://{addr}/ (production; events in {events}) (Ctrl+C to stop)",
                helpbook::diagnostic::display_path(&out_dir)
            );
        }
    }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// What `serve` prints: the address, one line per rebuild, and the problems.
struct PreviewLog {
    verbosity: Verbosity,
}

impl PreviewLog {
    fn problems(&self, update: &helpbook::preview::Update) {
        print_diagnostics(&update.problems, self.verbosity);
    }
}

impl helpbook::preview::Reporter for PreviewLog {
    fn ready(&self, addr: std::net::SocketAddr, first: &helpbook::preview::Update) {
        self.problems(first);
        if self.verbosity != Verbosity::Quiet {
            let errors = first.errors();
            let note = if errors > 0 {
                format!(
                    "; {errors} {} (shown on every page until fixed)",
                    plural(errors, "error", "errors")
                )
            } else {
                String::new()
            };
            println!(
                "Built in {:.2} s{note}. Serving at http://{addr}/ with live reload (Ctrl+C to stop)",
                first.elapsed.as_secs_f64()
            );
        }
    }

    fn rebuilt(&self, update: &helpbook::preview::Update) {
        // Notes (ignored settings and the like) were shown at the start.
        let problems: Vec<Diagnostic> = update
            .problems
            .iter()
            .filter(|d| d.severity != Severity::Note)
            .cloned()
            .collect();
        print_diagnostics(&problems, self.verbosity);
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        let mut what = update.changed.join(", ");
        if what.len() > 100 && self.verbosity != Verbosity::Verbose {
            what = format!("{} files", update.changed.len());
        }
        let done = if update.all {
            "every page rebuilt".to_string()
        } else if update.css && update.rewritten.is_empty() {
            "stylesheet swapped".to_string()
        } else if update.rewritten.is_empty() && update.removed.is_empty() {
            "nothing to rebuild".to_string()
        } else {
            let n = update.rewritten.len();
            let mut s = format!("{n} {} rebuilt", plural(n, "page", "pages"));
            if !update.removed.is_empty() {
                s.push_str(&format!(", {} removed", update.removed.len()));
            }
            s
        };
        let errors = update.errors();
        let problems = if errors > 0 {
            format!(
                " — {errors} {} (shown in the browser)",
                plural(errors, "error", "errors")
            )
        } else {
            String::new()
        };
        println!(
            "{what}: {done} in {} ms{problems}",
            update.elapsed.as_millis()
        );
    }

    fn warn(&self, message: &str) {
        eprintln!("warning: {message}");
    }
}

fn run_preview(dir: PathBuf, bind: &str, port: u16, open: bool, verbosity: Verbosity) -> ExitCode {
    let options = helpbook::preview::ServeOptions {
        build: BuildOptions::new(&dir),
        addr: format!("{bind}:{port}"),
        open,
    };
    match helpbook::preview::serve(options, PreviewLog { verbosity }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(errors) => {
            print_diagnostics(&errors, verbosity);
            eprintln!("error: cannot preview the site; fix the errors above and run serve again");
            ExitCode::from(1)
        }
    }
}

fn run_gaps(
    dir: PathBuf,
    since: &str,
    format: GapsFormat,
    limit: usize,
    pages: bool,
    verbosity: Verbosity,
) -> ExitCode {
    let period = match helpbook::analytics::Period::parse(since, helpbook::analytics::now_ms()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: --since {e}");
            return ExitCode::from(2);
        }
    };
    let env: Vec<(String, String)> = std::env::vars().collect();
    let config = match helpbook::config::Config::load(&dir, env) {
        Ok((config, _)) => config,
        Err(errors) => {
            print_diagnostics(&errors, verbosity);
            return ExitCode::from(1);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    let (report, note) = match runtime.block_on(helpbook::analytics::site_report(
        &config,
        period,
        limit.max(1),
    )) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    if let Some(note) = note
        && verbosity != Verbosity::Quiet
    {
        eprintln!("note: {note}");
    }
    match format {
        GapsFormat::Table => print!("{}", report.to_text()),
        GapsFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("the report serialises")
        ),
        GapsFormat::Csv if pages => print!("{}", report.pages_csv()),
        GapsFormat::Csv => print!("{}", report.queries_csv()),
    }
    ExitCode::SUCCESS
}

fn run_init(dir: PathBuf, title: &str, language: &str, verbosity: Verbosity) -> ExitCode {
    match helpbook::init::init(&dir, title, language) {
        Ok(files) => {
            if verbosity != Verbosity::Quiet {
                for f in &files {
                    println!(
                        "  created {}",
                        helpbook::diagnostic::display_path(&dir.join(f))
                    );
                }
                println!(
                    "Created a knowledge base in {}. Next: helpbook build {}",
                    helpbook::diagnostic::display_path(&dir),
                    helpbook::diagnostic::display_path(&dir)
                );
            }
            ExitCode::SUCCESS
        }
        Err(d) => {
            print_diagnostics(&[d], verbosity);
            ExitCode::from(1)
        }
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// 12345 -> "12,345".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
