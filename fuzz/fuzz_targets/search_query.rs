//! A search as `/api/search` gets it (`q`, `limit`, `kind`, `audience` in a query string):
//! analysis (English stemming, jieba, bigrams), synonyms, typo tolerance, ranking and snippets,
//! against the index of a small English and Chinese site.
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
            let _ = fixture.search_query(data);
        }
    }
);
