#![no_main]
//! Fuzzes the chat-template (Jinja) tokenizer used on GGUF metadata.

use libfuzzer_sys::fuzz_target;
use threatlens_rules::artefact::jinja::risky_constructs;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = risky_constructs(text);
    }
});
