#![no_main]

use garrison_core::Timestamp;
use garrison_ingest::{Context, leef};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(line) = std::str::from_utf8(data) {
        let ctx = Context::at(Timestamp::from_millis(1_795_000_000_000));
        let _ = leef::parse(line, &ctx);
    }
});
