//! A page of a small site: includes (`{{#include file:range}}`, anchors, cycles), containers,
//! alerts, syntect highlighting, glossary terms, then links, anchors, aliases and tree embeds
//! checked against the other pages.
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
            let _ = fixture.markdown(data);
        }
    }
);
