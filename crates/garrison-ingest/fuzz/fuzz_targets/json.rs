//! Fuzzes the json parser: any bytes that are UTF-8 must give an event or
//! an error, never a panic.
#![no_main]

use garrison_core::Timestamp;
use garrison_ingest::Context;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let ctx = Context::at(Timestamp::from_millis(0));
    let _ = garrison_ingest::json::classify(line);
    let _ = garrison_ingest::json::parse(line, &ctx);
});
