//! Helpers the reader tests share: the corpus and line numbers.
// Each test binary uses a different subset.
#![allow(dead_code)]

use std::path::PathBuf;

/// The shared corpus: `GARRISON_CORPUS`, or `../shared/corpus` beside the
/// workspace.
pub fn corpus_dir() -> PathBuf {
    std::env::var("GARRISON_CORPUS").map_or_else(
        |_| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/corpus"
            ))
        },
        PathBuf::from,
    )
}

/// The text of a corpus file.
pub fn corpus(rel: &str) -> String {
    let path = corpus_dir().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read corpus file {} ({e}); set GARRISON_CORPUS",
            path.display()
        )
    })
}

/// The 1-based line where `needle` first occurs in `text`.
pub fn line_of(text: &str, needle: &str) -> u64 {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not in text"));
    text[..at].bytes().filter(|b| *b == b'\n').count() as u64 + 1
}
