//! A triage tree of a small site: strict YAML, ids, shape (unknown nodes, unreachable nodes,
//! cycles), targets checked against the site's pages and anchors, the tree's pages, its embed,
//! and the server's check of a reader's path of answers.
#![no_main]

use std::sync::OnceLock;

use helpbook::fuzz::Fixture;
use libfuzzer_sys::fuzz_target;

static FIXTURE: OnceLock<Fixture> = OnceLock::new();

fuzz_target!(
    init: {
        FIXTURE.get_or_init(|| Fixture::new().unwrap_or_else(|e| panic!("{e}")));
    },
    |data: &[u8]| {
        if let Some(fixture) = FIXTURE.get() {
            let _ = fixture.triage_tree(data);
        }
    }
);
