//! Front matter of a page: UTF-8 decoding, splitting off the `---` block, strict YAML parsing
//! (serde-saphyr), and the rendering of every error with its line, column and snippet.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = helpbook::fuzz::front_matter(data);
});
