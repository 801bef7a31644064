#![no_main]
//! Fuzzes the pickle reader through the artefact scanner's entry point (format told by magic
//! bytes, then the `.pkl` extension). Any panic, hang or unbounded allocation is a bug.

use libfuzzer_sys::fuzz_target;
use threatlens_rules::artefact::{Limits, scan_bytes};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::with_max_bytes(16 << 20);
    let report = scan_bytes("fuzz.pkl", data, &limits);
    let _ = report.to_string();
});
