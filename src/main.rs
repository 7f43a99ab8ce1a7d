//! The `helpbook` command: parses arguments, calls the library, prints, and maps the outcome to
//! an exit code (0 success, 1 content or I/O errors, 2 usage errors).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use helpbook::diagnostic::{Diagnostic, Severity};
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
        Command::Build { dir, dest_dir } => run_build(dir, dest_dir, verbosity),
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

fn run_build(dir: PathBuf, dest_dir: Option<PathBuf>, verbosity: Verbosity) -> ExitCode {
    let mut options = BuildOptions::new(&dir);
    options.out_dir = dest_dir;
    let report = build(&options);
    print_diagnostics(&report.diagnostics, verbosity);
    let seconds = report.elapsed.as_secs_f64();
    if report.failed() {
        let errors = report.errors();
        let warnings = report.warnings();
        eprintln!(
            "error: build failed with {} {}{}; nothing was written",
            errors,
            plural(errors, "error", "errors"),
            if warnings > 0 {
                format!(
                    " and {warnings} {}",
                    plural(warnings, "warning", "warnings")
                )
            } else {
                String::new()
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
