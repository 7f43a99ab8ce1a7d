//! helpbook turns a folder of Markdown into a self-service help portal.
//!
//! Data flows one way: [`config`] -> [`content`] (which uses [`markdown`]) -> [`render`].
//! Each stage collects every problem it finds as a [`diagnostic::Diagnostic`] instead of
//! stopping at the first, so a writer sees all of them in one run. [`build()`] runs the stages;
//! the binary in `main.rs` only parses arguments and prints.

pub mod analytics;
pub mod check;
pub mod config;
pub mod content;
pub mod diagnostic;
#[doc(hidden)]
pub mod fuzz;
pub mod i18n;
pub mod init;
pub mod markdown;
pub mod preview;
pub mod render;
pub mod search;
pub mod server;
pub mod triage;

pub(crate) mod build;

pub use build::{BuildOptions, BuildReport, build, open_or_build_index};
