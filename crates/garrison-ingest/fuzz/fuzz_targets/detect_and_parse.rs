#![no_main]

use garrison_core::Timestamp;
use garrison_ingest::{Context, Format, detect, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(line) = std::str::from_utf8(data) {
        let ctx = Context::at(Timestamp::from_millis(1_795_000_000_000));
        let detected = detect(line);
        let result = parse(Format::Auto, line, &ctx);
        // Auto fails exactly when detection finds nothing.
        if detected.is_none() {
            assert!(result.is_err());
        }
    }
});
