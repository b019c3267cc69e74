//! CSV exports. Every cell is attacker-controlled text as far as a
//! spreadsheet is concerned, so a cell that a spreadsheet would read as a
//! formula (starting with `=`, `+`, `-`, `@`, tab or carriage return) is
//! prefixed with an apostrophe.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// Neutralises a cell against spreadsheet formula injection.
#[must_use]
pub fn cell(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    }
}

/// Builds a CSV document from a header and rows.
#[must_use]
pub fn document(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(header);
    for row in rows {
        let _ = w.write_record(row.iter().map(|c| cell(c)));
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// A CSV download.
#[must_use]
pub fn download(file_name: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_quotes_escaped() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("-1+1"), "'-1+1");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("web01"), "web01");
        let doc = document(&["a", "b"], [vec!["=1+1".to_owned(), "x,\"y\"".to_owned()]]);
        assert_eq!(doc, "a,b\n'=1+1,\"x,\"\"y\"\"\"\n");
    }
}
