use super::*;

use garrison_core::indicator::IndicatorKind;

type Read = (
    Vec<(u64, IndicatorWrite)>,
    Vec<FeedRejection>,
    Vec<String>,
    Option<String>,
);

fn read(format: FeedFormat, text: &[u8]) -> Read {
    let mut r = FeedReader::new(text, format, FeedDefaults::new("feed.csv"));
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for item in r.by_ref() {
        match item {
            FeedItem::Indicator { line, write } => ok.push((line, write)),
            FeedItem::Rejected(r) => bad.push(r),
        }
    }
    (ok, bad, r.warnings().to_vec(), r.error().map(str::to_owned))
}

#[test]
fn csv_with_every_column_and_bad_lines() {
    let text = b"\xEF\xBB\xBFtype,value,confidence,valid_from,valid_until,source,tlp,tags,colour\n\
        ipv4,192.0.2.1,80,2026-01-01,2027-01-01,abuse.ch,green,c2;botnet,red\n\
        # a comment\n\
        \n\
        ,Evil.Example.,,,,,,\n\
        domain,not a domain,,,,,,\n\
        sha256,abc,,,,,,\n\
        ipv4,192.0.2.2,101,,,,,\n\
        ipv4,192.0.2.3,,yesterday,,,,\n\
        ipv4,192.0.2.4,,,,,purple,\n\
        mutex,xyz,,,,,,\n\
        url,\"http://evil.example/a,b\",,,,,amber+strict,\"x, y\"\n\
        ipv4,\"192.0.2.5,,,\n\
        ,,,,\n\
        ipv4,192.0.2.6,,2026-02-01,2026-01-01,,,\n";
    let (ok, bad, warnings, error) = read(FeedFormat::Csv, text);
    assert_eq!(error, None);
    assert_eq!(warnings, ["unknown column `colour` (ignored)"]);
    assert_eq!(ok.len(), 3, "{bad:?}");
    let (line, w) = &ok[0];
    assert_eq!(*line, 2);
    assert_eq!(
        (w.kind, w.value.as_str()),
        (IndicatorKind::Ipv4, "192.0.2.1")
    );
    assert_eq!(w.confidence, 80);
    assert_eq!(w.valid_from, Timestamp::parse("2026-01-01"));
    assert_eq!(w.valid_until, Timestamp::parse("2027-01-01"));
    assert_eq!((w.source.as_str(), w.tlp), ("abuse.ch", Tlp::Green));
    assert_eq!(w.tags, ["c2", "botnet"]);
    let (line, w) = &ok[1];
    assert_eq!(
        (*line, w.kind, w.value.as_str()),
        (5, IndicatorKind::Domain, "evil.example")
    );
    assert_eq!(
        (w.confidence, w.tlp, w.source.as_str()),
        (50, Tlp::Amber, "feed.csv")
    );
    assert_eq!((w.valid_from, w.valid_until), (None, None));
    let (line, w) = &ok[2];
    assert_eq!(
        (*line, w.value.as_str(), w.tlp),
        (12, "http://evil.example/a,b", Tlp::AmberStrict)
    );
    assert_eq!(w.tags, ["x", "y"]);

    let lines: Vec<u64> = bad.iter().map(|r| r.line).collect();
    assert_eq!(lines, [6, 7, 8, 9, 10, 11, 13, 14, 15], "{bad:?}");
    assert!(bad[0].reason.contains("`not a domain`"), "{}", bad[0]);
    assert!(bad[2].reason.contains("0 to 100"), "{}", bad[2]);
    assert!(bad[3].reason.contains("yesterday"), "{}", bad[3]);
    assert!(bad[4].reason.contains("TLP"), "{}", bad[4]);
    assert!(bad[5].reason.contains("unknown type `mutex`"), "{}", bad[5]);
    assert!(bad[6].reason.contains("quoted"), "{}", bad[6]);
    assert!(bad[7].reason.contains("no value"), "{}", bad[7]);
    assert!(bad[8].reason.contains("before"), "{}", bad[8]);
}

#[test]
fn txt_lists_take_the_first_word_and_detect_types() {
    let text = b"# IPsum\n192.0.2.1\n  evil.example  # inline\nd41d8cd98f00b204e9800998ecf8427e\tdropper.exe\n=cmd|' /C calc'!A0\n@SUM(1+1)\n+1-2\n-evil.example\n\xff\xfe\n2001:DB8::1\n";
    let (ok, bad, _, error) = read(FeedFormat::Txt, text);
    assert_eq!(error, None);
    let got: Vec<_> = ok
        .iter()
        .map(|(l, w)| (*l, w.kind, w.value.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (2, IndicatorKind::Ipv4, "192.0.2.1"),
            (3, IndicatorKind::Domain, "evil.example"),
            (4, IndicatorKind::Md5, "d41d8cd98f00b204e9800998ecf8427e"),
            (10, IndicatorKind::Ipv6, "2001:db8::1"),
        ]
    );
    let lines: Vec<u64> = bad.iter().map(|r| r.line).collect();
    assert_eq!(
        lines,
        [5, 6, 7, 8, 9],
        "formula prefixes and bytes that are not text are refused"
    );
    assert!(bad[4].reason.contains("UTF-8"));
    assert!(
        bad[0].reason.contains("`=cmd|"),
        "the value is shown: {}",
        bad[0]
    );
}

#[test]
fn an_explicit_type_is_applied_to_every_line() {
    let mut defaults = FeedDefaults::new("ja3.txt");
    defaults.kind = KindHint::Exact(IndicatorKind::Ja3);
    let text = b"e7d705a3286e19ea42f587b344ee6865\nnot-a-ja3\n";
    let mut r = FeedReader::new(&text[..], FeedFormat::Txt, defaults);
    let first = r.next();
    assert!(
        matches!(first, Some(FeedItem::Indicator { ref write, .. }) if write.kind == IndicatorKind::Ja3)
    );
    assert!(matches!(
        r.next(),
        Some(FeedItem::Rejected(FeedRejection { line: 2, .. }))
    ));
    assert_eq!(r.next(), None);
}

#[test]
fn huge_lines_are_skipped_without_losing_the_next() {
    let mut text = b"value\n".to_vec();
    text.extend(std::iter::repeat_n(b'a', MAX_LINE_BYTES * 3));
    text.extend(b"\n192.0.2.9\n");
    let (ok, bad, _, _) = read(FeedFormat::Csv, &text);
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].line, 2);
    assert!(bad[0].reason.contains("longer than"));
    assert_eq!(ok.len(), 1);
    assert_eq!((ok[0].0, ok[0].1.value.as_str()), (3, "192.0.2.9"));
}

#[test]
fn headers_by_type_tabs_and_none() {
    // MISP's CSV export names columns by type, one value of each a row.
    let text = b"md5, sha1, sha256\n644087ccca16d2a728ef7685a4106f09, eabd6974ac71efd72d9e0688d5a6131f336d169c, 385e31c97e3a07bbb81513f0cd0979e64e6b014943902efd002f57b21eadd41e\n";
    let (ok, bad, _, _) = read(FeedFormat::Csv, text);
    assert!(bad.is_empty(), "{bad:?}");
    let kinds: Vec<_> = ok.iter().map(|(_, w)| w.kind).collect();
    assert_eq!(
        kinds,
        [
            IndicatorKind::Md5,
            IndicatorKind::Sha1,
            IndicatorKind::Sha256
        ]
    );

    let text = b"indicator\ttype\tTLP\nevil.example\tdomain-name\tTLP:RED\n";
    let (ok, _, _, _) = read(FeedFormat::Csv, text);
    assert_eq!(ok[0].1.tlp, Tlp::Red);

    let text = b"192.0.2.1,scanner\n192.0.2.2,scanner\n";
    let (ok, _, warnings, _) = read(FeedFormat::Csv, text);
    assert_eq!(ok.len(), 2, "no header: the first column is the value");
    assert!(warnings[0].contains("no header"));

    let text = b"name,colour\nx,y\n";
    let (ok, _, _, error) = read(FeedFormat::Csv, text);
    assert!(ok.is_empty());
    assert!(error.expect("error").contains("no `value` column"));
}

#[test]
fn formats_by_name() {
    assert_eq!(FeedFormat::parse("CSV"), Some(FeedFormat::Csv));
    assert_eq!(FeedFormat::parse("txt"), Some(FeedFormat::Txt));
    assert_eq!(FeedFormat::parse("xml"), None);
    assert_eq!(FeedFormat::for_file_name("a.CSV"), FeedFormat::Csv);
    assert_eq!(FeedFormat::for_file_name("a.samples.md5"), FeedFormat::Txt);
    assert_eq!(clean_source(" \u{1b}[31mfeed "), "[31mfeed");
    assert_eq!(clean_source(""), "unnamed");
}

/// The real feeds of the corpus (`GARRISON_CORPUS`, default
/// `../shared/corpus` from the workspace root), read in place: every value
/// line of each list is accepted, the counts derived from the files.
#[test]
fn corpus_feeds_read_completely() {
    let root = std::env::var_os("GARRISON_CORPUS").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        std::path::PathBuf::from,
    );
    let dir = root.join("intel/csv");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skipped: no corpus at {}", dir.display());
        return;
    };
    let mut files = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with(".json") {
            continue;
        }
        let bytes = std::fs::read(&path).expect("read corpus file");
        let text = String::from_utf8_lossy(&bytes);
        let values = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .count();
        let format = FeedFormat::for_file_name(name);
        let (ok, bad, _, error) = read(format, &bytes);
        assert_eq!(error, None, "{name}");
        assert!(bad.is_empty(), "{name}: {bad:?}");
        let expected = match format {
            FeedFormat::Txt => values,
            // The header line, and for type-named columns one value a cell.
            FeedFormat::Csv if name.starts_with("pymisp") => (values - 1) * 3,
            FeedFormat::Csv => values - 1,
        };
        assert_eq!(ok.len(), expected, "{name}");
        files += 1;
    }
    assert!(files >= 40, "the corpus has the intel lists ({files})");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the bytes, the reader ends, never panics, numbers
        /// every item with a line that exists, and yields only normalised
        /// values.
        #[test]
        fn any_bytes_are_read_safely(
            bytes in proptest::collection::vec(any::<u8>(), 0..2000),
            csv in any::<bool>(),
        ) {
            let format = if csv { FeedFormat::Csv } else { FeedFormat::Txt };
            let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            let reader = FeedReader::new(&bytes[..], format, FeedDefaults::new("p"));
            for item in reader {
                match item {
                    FeedItem::Indicator { line, write } => {
                        prop_assert!(line >= 1 && line <= lines);
                        prop_assert_eq!(
                            write.kind.normalize(&write.value),
                            Ok((write.kind, write.value.clone()))
                        );
                    }
                    FeedItem::Rejected(r) => prop_assert!(r.line >= 1 && r.line <= lines),
                }
            }
        }

        /// Lines of plausible feed text, with a header.
        #[test]
        fn csv_like_text_is_read_safely(
            rows in proptest::collection::vec("[a-z0-9.:/@,\" =+-]{0,40}", 0..30),
        ) {
            let text = format!("type,value,tags\n{}", rows.join("\n"));
            let n = FeedReader::new(text.as_bytes(), FeedFormat::Csv, FeedDefaults::new("p")).count();
            prop_assert!(n <= rows.len() * 2 + 1);
        }
    }
}
