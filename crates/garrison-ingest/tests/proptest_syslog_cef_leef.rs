//! Properties of the syslog, CEF and LEEF parsers: no input makes them
//! panic, and escaping written by the producer's rules reads back.

use garrison_core::Timestamp;
use garrison_ingest::{Context, Format, Value, cef, detect, leef, parse, syslog};
use proptest::prelude::*;

fn ctx() -> Context {
    Context::at(Timestamp::from_millis(1_795_000_000_000))
}

/// Arbitrary text, often starting like one of our formats.
fn line() -> impl Strategy<Value = String> {
    let prefix = prop_oneof![
        Just(""),
        Just("<13>1 "),
        Just("<166>"),
        Just("<13>1 2026-11-22T21:34:50.1+01:00 h a 1 m ["),
        Just("CEF:0|"),
        Just("CEF:0|V|P|1|2|n|5|"),
        Just("LEEF:1.0|"),
        Just("LEEF:2.0|V|P|1|E|"),
        Just("Nov  3 10:00:00 "),
        Just("Nov 3 2026 10:00:00.1: %ASA-"),
        Just("2026-11-03T10:00:00Z "),
        Just("<13>Nov 22 21:34:50 vm CEF: CEF:0|V|P|1|2|n|5|"),
    ];
    (prefix, any::<String>(), "[ -~\\\\|=\\[\\]\"\t]{0,60}")
        .prop_map(|(p, a, b)| format!("{p}{b}{a}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parsers_never_panic(l in line()) {
        let c = ctx();
        let _ = syslog::parse_5424(&l, &c);
        let _ = syslog::parse_3164(&l, &c);
        let _ = syslog::parse_any(&l, &c);
        let _ = cef::parse(&l, &c);
        let _ = leef::parse(&l, &c);
        let _ = detect(&l);
        // JSON lines belong to the JSON parsers' own tests.
        if !l.trim_start().starts_with('{') {
            let _ = parse(Format::Auto, &l, &c);
        }
    }

    #[test]
    fn errors_say_something(l in line()) {
        if let Err(e) = cef::parse(&l, &ctx()) {
            prop_assert!(!e.reason.is_empty());
        }
    }

    #[test]
    fn cef_extension_escaping_round_trips(
        pairs in proptest::collection::btree_map(
            "k[a-zA-Z0-9_]{0,8}",
            // Any text; a value's trailing blanks are not significant.
            any::<String>().prop_filter("non-blank end", |v| {
                v.chars().last().is_some_and(|c| c != ' ' && c != '\t')
            }),
            0..8,
        )
    ) {
        let ext: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", cef::escape_value(v)))
            .collect();
        let line = format!("CEF:0|Vendor|Product|1.0|100|name|5|{}", ext.join(" "));
        let p = cef::parse(&line, &ctx()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (k, v) in &pairs {
            let got = p.fields.get(&format!("cef.extensions.{k}"));
            prop_assert_eq!(got, Some(&Value::Str(v.clone())), "{}", line);
        }
    }

    #[test]
    fn sd_escaping_round_trips(
        elems in proptest::collection::btree_map(
            "[a-zA-Z][a-zA-Z0-9@.]{0,10}",
            proptest::collection::btree_map("[a-zA-Z][a-zA-Z0-9_]{0,8}", any::<String>(), 0..4),
            1..4,
        ),
        msg in "[^\u{feff}]{0,30}",
    ) {
        let mut sd = String::new();
        for (id, params) in &elems {
            sd.push('[');
            sd.push_str(id);
            for (k, v) in params {
                sd.push_str(&format!(" {k}=\"{}\"", syslog::escape_sd_value(v)));
            }
            sd.push(']');
        }
        let line = format!("<14>1 2026-11-22T21:34:50Z host app 1 ID {sd} {msg}");
        let p = syslog::parse_5424(&line, &ctx()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (id, params) in &elems {
            for (k, v) in params {
                let got = p.fields.get_str(&format!("log.syslog.structured_data.{id}.{k}"));
                prop_assert_eq!(got, Some(v.as_str()), "{}", line);
            }
        }
        let want = msg.trim();
        prop_assert_eq!(p.fields.get_str("message").unwrap_or(""), if want == "-" { "" } else { want });
    }
}
