//! `helpbook serve`: build, serve, watch, rebuild, reload.
//!
//! File events come from notify through notify-debouncer-full, which merges the bursts editors
//! make on save (vim and JetBrains write a temporary file and rename it over the page) into one
//! batch. Batches that arrive while a rebuild runs are merged into the next one.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use notify::RecursiveMode;
use notify::event::{AccessKind, AccessMode, EventKind};
use notify_debouncer_full::{DebounceEventResult, new_debouncer};

use super::{Preview, SearchChange, Update};
use crate::build::BuildOptions;
use crate::diagnostic::Diagnostic;
use crate::server::{self, PreviewServer};

/// Quiet time after a file event before rebuilding: long enough to take in an editor's whole
/// save (write, rename, attribute change), short enough not to be felt.
const DEBOUNCE: Duration = Duration::from_millis(20);

/// How to serve a preview.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// What to build.
    pub build: BuildOptions,
    /// Address to listen on (`127.0.0.1:3000`; port 0 picks a free one).
    pub addr: String,
    /// Open the site in the default browser once it is served.
    pub open: bool,
}

/// What the preview tells the person running it.
pub trait Reporter: Send + Sync + 'static {
    /// The site is built and served at `addr`.
    fn ready(&self, addr: SocketAddr, first: &Update);
    /// A rebuild finished.
    fn rebuilt(&self, update: &Update);
    /// Something went wrong outside the content (the watcher, the browser).
    fn warn(&self, message: &str);
}

/// Builds the site, serves it with live reload and rebuilds on every change until Ctrl+C.
/// Fails when `book.toml` or the theme cannot be used at the start, or the address cannot be
/// listened on; content problems never stop it.
pub fn serve(options: ServeOptions, reporter: impl Reporter) -> Result<(), Vec<Diagnostic>> {
    let (mut preview, first) = Preview::start(options.build.clone())?;
    let out_dir = preview.site().config.out_dir.clone();
    let result = server::serve_preview(&out_dir, &options.addr, |addr, handle| {
        // A version unique to this run, so a page left open from an earlier run reloads.
        let mut version = crate::analytics::now_ms().max(0) as u64;
        handle.publish(&first.message(version));
        reporter.ready(addr, &first);
        if options.open {
            open_browser(&format!("http://{addr}/"), &reporter);
        }
        let (tx, rx) = mpsc::channel::<DebounceEventResult>();
        let watcher = new_debouncer(DEBOUNCE, None, tx).and_then(|mut debouncer| {
            for (dir, recursive) in preview.watched() {
                let mode = if recursive {
                    RecursiveMode::Recursive
                } else {
                    RecursiveMode::NonRecursive
                };
                debouncer.watch(&dir, mode)?;
            }
            Ok(debouncer)
        });
        let watcher = match watcher {
            Ok(w) => w,
            Err(e) => {
                reporter.warn(&format!(
                    "cannot watch the site's files ({e}); changes will not be rebuilt"
                ));
                return;
            }
        };
        let reporter = std::sync::Arc::new(reporter);
        let watching = reporter.clone();
        std::thread::Builder::new()
            .name("helpbook-watch".into())
            .spawn(move || {
                let reporter = &*watching;
                // The watcher lives as long as this thread.
                let _watcher = watcher;
                while let Ok(batch) = rx.recv() {
                    let mut paths = Vec::new();
                    collect(batch, &mut paths, reporter);
                    // Whatever else arrived meanwhile goes into the same rebuild.
                    while let Ok(more) = rx.try_recv() {
                        collect(more, &mut paths, reporter);
                    }
                    if paths.is_empty() {
                        continue;
                    }
                    let update = preview.update(&paths);
                    if update.changed.is_empty() {
                        continue;
                    }
                    version += 1;
                    handle.publish(&update.message(version));
                    reporter.rebuilt(&update);
                    refresh(&mut preview, &update, &handle, reporter);
                }
            })
            .map(|_| ())
            .unwrap_or_else(|e| reporter.warn(&format!("cannot start watching: {e}")));
    });
    result.map_err(|e| vec![Diagnostic::error(e)])
}

/// Brings the server's search up to date after the pages were reloaded.
fn refresh(
    preview: &mut Preview,
    update: &Update,
    handle: &PreviewServer,
    reporter: &impl Reporter,
) {
    let committed = preview.finish();
    let reopen = update.search == SearchChange::Reopen;
    if (committed || reopen || update.wrote())
        && let Err(e) = handle.refresh(reopen)
    {
        reporter.warn(&format!("search may show the previous version: {e}"));
    }
}

fn collect(batch: DebounceEventResult, paths: &mut Vec<PathBuf>, reporter: &impl Reporter) {
    match batch {
        Ok(events) => {
            for event in events {
                // Reading a file (the rebuild reads them all) is no change.
                if let EventKind::Access(access) = event.event.kind
                    && access != AccessKind::Close(AccessMode::Write)
                {
                    continue;
                }
                for path in &event.event.paths {
                    if !paths.contains(path) {
                        paths.push(path.clone());
                    }
                }
            }
        }
        Err(errors) => {
            for e in errors {
                reporter.warn(&format!("watching files: {e}"));
            }
        }
    }
}

/// Opens `url` in the default browser.
fn open_browser(url: &str, reporter: &impl Reporter) {
    let mut command = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(windows) {
        let mut c = std::process::Command::new("cmd");
        c.args(["/C", "start", ""]);
        c
    } else {
        std::process::Command::new("xdg-open")
    };
    command
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if let Err(e) = command.spawn() {
        reporter.warn(&format!("cannot open a browser ({e}); open {url} yourself"));
    }
}
