//! Integration tests: the library and the binary on fixture sites.

mod a11y_browser;
mod browser;
mod build;
mod check;
mod cli;
mod fixtures;
mod fuzz_regressions;
mod gaps;
mod glossary;
mod glossary_browser;
mod hostile;
mod invalid;
mod markdown;
mod preview;
mod preview_browser;
mod search;
mod server;
mod support;
mod tickets;
mod triage;
mod triage_browser;
