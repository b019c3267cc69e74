//! Threshold and sequence rules: detections over several events of one
//! key (an address, a user) within a time window, in the YAML form
//! documented in `docs/correlation-rules.md`.
//!
//! ```yaml
//! id: garrison-bruteforce-then-success
//! title: Failed logons then a success from one source
//! kind: sequence            # or: threshold
//! level: high               # informational, low, medium, high, critical
//! status: stable            # stable, test, experimental
//! group_by: [source.ip]     # the key: events are counted per value
//! window: 10m               # s, m, h, d
//! steps:                    # sequence: in order, each `count` times (default 1)
//!   - where: { event.category: authentication, event.outcome: failure }
//!     count: 5
//!   - where: { event.category: authentication, event.outcome: success }
//! ```
//!
//! ```yaml
//! id: garrison-port-scan
//! title: One source touching many ports
//! kind: threshold
//! where: { event.category: network }
//! group_by: [source.ip]
//! distinct: destination.port   # optional: count distinct values, not events
//! count: 20
//! window: 1m
//! ```
//!
//! A `where` map holds field names and the value (or list of values) the
//! field must equal, ignoring ASCII case; a field holding a list matches
//! when any item does; `null` means the field is absent. An event without
//! every `group_by` field is not counted.
//!
//! State is kept per tenant in memory ([`CorrelationState`]): counts start
//! again after a restart, and at most [`MAX_GROUPS`] keys are tracked per
//! tenant (the stalest are dropped first). A rule fires once its condition
//! holds and then starts counting afresh for that key. Events are taken in
//! the order they arrive; times are the events' own.

use std::collections::HashMap;
use std::time::Duration;

use garrison_core::event::{Event, Fields, Value};
use garrison_core::{EventId, Timestamp};
use serde::Deserialize;

/// Keys tracked per tenant at most (all rules together).
pub const MAX_GROUPS: usize = 100_000;

/// Events remembered per key and rule at most (the newest kept).
pub const MAX_EVENTS_PER_GROUP: usize = 1_000;

/// What a rule looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CorrelationKind {
    Threshold,
    Sequence,
}

/// One condition set: every field equals one of its values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Where(Vec<(String, Vec<Option<String>>)>);

/// A `where` value: one scalar, a list of them, or `null`.
#[derive(Deserialize)]
#[serde(untagged)]
enum WhereValue {
    One(Scalar),
    Many(Vec<Option<Scalar>>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Text(String),
    Int(i64),
    Bool(bool),
}

impl Scalar {
    fn text(self) -> String {
        match self {
            Self::Text(t) => t,
            Self::Int(i) => i.to_string(),
            Self::Bool(b) => b.to_string(),
        }
    }
}

impl<'de> Deserialize<'de> for Where {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map: std::collections::BTreeMap<String, Option<WhereValue>> =
            Deserialize::deserialize(d)?;
        Ok(Self(
            map.into_iter()
                .map(|(k, v)| {
                    let values = match v {
                        None => vec![None],
                        Some(WhereValue::One(s)) => vec![Some(s.text())],
                        Some(WhereValue::Many(items)) => {
                            items.into_iter().map(|i| i.map(Scalar::text)).collect()
                        }
                    };
                    (k, values)
                })
                .collect(),
        ))
    }
}

impl Where {
    /// Whether the event's fields meet every condition.
    #[must_use]
    pub fn matches(&self, f: &Fields) -> bool {
        self.0.iter().all(|(name, wanted)| {
            let got = f.get(name);
            wanted.iter().any(|w| match (w, got) {
                (None, None) => true,
                (None, Some(_)) | (Some(_), None) => false,
                (Some(w), Some(v)) => value_is(v, w),
            })
        })
    }
}

fn value_is(v: &Value, wanted: &str) -> bool {
    match v {
        Value::Str(s) => s.eq_ignore_ascii_case(wanted),
        Value::List(items) => items.iter().any(|i| value_is(i, wanted)),
        Value::Int(i) => wanted.parse::<i64>().ok() == Some(*i),
        Value::Bool(b) => wanted.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
        Value::Ip(ip) => wanted.parse::<std::net::IpAddr>().ok() == Some(*ip),
        other => other.to_string().eq_ignore_ascii_case(wanted),
    }
}

/// One step of a sequence.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(rename = "where")]
    pub condition: Where,
    #[serde(default = "one")]
    pub count: u32,
}

const fn one() -> u32 {
    1
}

/// A rule as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrelationRule {
    pub id: String,
    pub title: String,
    pub kind: CorrelationKind,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "medium")]
    pub level: String,
    #[serde(default)]
    pub status: Option<String>,
    pub group_by: Vec<String>,
    /// `30s`, `10m`, `2h`, `1d`.
    pub window: String,
    /// Threshold rules.
    #[serde(rename = "where", default)]
    pub condition: Option<Where>,
    #[serde(default)]
    pub distinct: Option<String>,
    #[serde(default)]
    pub count: Option<u32>,
    /// Sequence rules.
    #[serde(default)]
    pub steps: Vec<Step>,
    #[serde(default)]
    pub tags: Vec<String>,
}

fn medium() -> String {
    "medium".to_owned()
}

/// Reads `30s`, `10m`, `2h`, `1d`.
///
/// # Errors
/// A message saying what is wrong.
pub fn parse_window(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = n
        .parse()
        .map_err(|_| format!("window `{s}`: a number and a unit (s, m, h, d)"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("window `{s}`: the unit is s, m, h or d")),
    };
    if secs == 0 || secs > 7 * 86_400 {
        return Err(format!("window `{s}`: from 1 s to 7 days"));
    }
    Ok(Duration::from_secs(secs))
}

/// A rule checked and ready to count.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub rule: CorrelationRule,
    pub window_ms: i64,
}

impl Compiled {
    /// Checks a rule.
    ///
    /// # Errors
    /// What is wrong with it, naming the part.
    pub fn new(rule: CorrelationRule) -> Result<Self, String> {
        if rule.id.trim().is_empty() {
            return Err("`id` is empty".to_owned());
        }
        if rule.group_by.is_empty() {
            return Err("`group_by` names no field".to_owned());
        }
        let window = parse_window(&rule.window)?;
        match rule.kind {
            CorrelationKind::Threshold => {
                if rule.condition.is_none() {
                    return Err("a threshold rule needs `where`".to_owned());
                }
                match rule.count {
                    Some(2..) => {}
                    _ => return Err("a threshold rule needs `count` of 2 or more".to_owned()),
                }
                if !rule.steps.is_empty() {
                    return Err("`steps` belong to sequence rules".to_owned());
                }
            }
            CorrelationKind::Sequence => {
                if rule.steps.len() < 2 {
                    return Err("a sequence rule needs at least two `steps`".to_owned());
                }
                if rule.steps.iter().any(|s| s.count == 0) {
                    return Err("a step's `count` is at least 1".to_owned());
                }
                if rule.condition.is_some() || rule.count.is_some() || rule.distinct.is_some() {
                    return Err("`where`, `count` and `distinct` belong to threshold rules; a sequence has `steps`".to_owned());
                }
            }
        }
        Ok(Self {
            window_ms: i64::try_from(window.as_millis()).unwrap_or(i64::MAX),
            rule,
        })
    }
}

/// Files of correlation rules larger than this are refused.
pub const MAX_RULE_FILE_BYTES: usize = 64 * 1024;

/// Reads and checks one rule written in YAML.
///
/// # Errors
/// What is wrong, naming the part (YAML position or field).
pub fn from_yaml(text: &str) -> Result<Compiled, String> {
    if text.len() > MAX_RULE_FILE_BYTES {
        return Err(format!("larger than {MAX_RULE_FILE_BYTES} bytes"));
    }
    let rule: CorrelationRule = yaml_serde::from_str(text).map_err(|e| e.to_string())?;
    Compiled::new(rule)
}

/// Whether a YAML text is a correlation rule of ours rather than Sigma: it
/// says `kind: threshold` or `kind: sequence` at the top level.
#[must_use]
pub fn looks_like_correlation(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_end();
        l == "kind: threshold" || l == "kind: sequence"
    })
}

/// What fired: the rule (index in the set), the key and the events that
/// made it (time and id), oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    pub rule: usize,
    pub key: Vec<String>,
    pub events: Vec<(Timestamp, EventId)>,
}

/// Per rule and key: the events counted (time, id, distinct value or step).
#[derive(Debug, Default)]
struct Group {
    seen: Vec<(Timestamp, EventId, String)>,
    /// Sequence: the step reached and how many of it were seen.
    step: usize,
    in_step: u32,
    last: i64,
}

/// One tenant's counting state.
#[derive(Debug, Default)]
pub struct CorrelationState {
    groups: HashMap<(usize, Vec<String>), Group>,
}

fn key_of(f: &Fields, by: &[String]) -> Option<Vec<String>> {
    by.iter()
        .map(|name| match f.get(name)? {
            Value::Str(s) if !s.is_empty() => Some(s.to_ascii_lowercase()),
            Value::Str(_) | Value::List(_) => None,
            v => Some(v.to_string()),
        })
        .collect()
}

impl CorrelationState {
    /// Keys tracked.
    #[must_use]
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Counts `event` for every rule of `rules` it concerns and returns
    /// what fired.
    pub fn observe(&mut self, rules: &[Compiled], event: &Event, out: &mut Vec<Fired>) {
        let at = event.timestamp;
        for (i, c) in rules.iter().enumerate() {
            let r = &c.rule;
            let relevant = match r.kind {
                CorrelationKind::Threshold => r
                    .condition
                    .as_ref()
                    .is_some_and(|w| w.matches(&event.fields)),
                CorrelationKind::Sequence => {
                    r.steps.iter().any(|s| s.condition.matches(&event.fields))
                }
            };
            if !relevant {
                continue;
            }
            let Some(key) = key_of(&event.fields, &r.group_by) else {
                continue;
            };
            if self.groups.len() >= MAX_GROUPS && !self.groups.contains_key(&(i, key.clone())) {
                self.evict(at.as_millis());
            }
            let g = self.groups.entry((i, key.clone())).or_default();
            g.last = g.last.max(at.as_millis());
            let fired = match r.kind {
                CorrelationKind::Threshold => threshold(c, g, event),
                CorrelationKind::Sequence => sequence(c, g, event),
            };
            if let Some(events) = fired {
                out.push(Fired {
                    rule: i,
                    key,
                    events,
                });
            }
        }
    }

    /// Drops the stalest tenth of the keys.
    fn evict(&mut self, _now: i64) {
        let mut lasts: Vec<i64> = self.groups.values().map(|g| g.last).collect();
        lasts.sort_unstable();
        let cut = lasts[lasts.len() / 10];
        self.groups.retain(|_, g| g.last > cut);
    }

    /// Forgets keys whose last event is older than `now` minus the
    /// longest window (run now and then).
    pub fn prune(&mut self, rules: &[Compiled], now: Timestamp) {
        let longest = rules.iter().map(|c| c.window_ms).max().unwrap_or(0);
        let cut = now.as_millis().saturating_sub(longest);
        self.groups.retain(|_, g| g.last >= cut);
    }
}

fn threshold(c: &Compiled, g: &mut Group, e: &Event) -> Option<Vec<(Timestamp, EventId)>> {
    let r = &c.rule;
    let at = e.timestamp.as_millis();
    let value = match &r.distinct {
        Some(field) => match e.fields.get(field) {
            Some(v) => v.to_string(),
            None => return None,
        },
        None => String::new(),
    };
    g.seen.push((e.timestamp, e.id, value));
    g.seen.retain(|(t, _, _)| t.as_millis() > at - c.window_ms);
    if g.seen.len() > MAX_EVENTS_PER_GROUP {
        let extra = g.seen.len() - MAX_EVENTS_PER_GROUP;
        g.seen.drain(..extra);
    }
    let n = if r.distinct.is_some() {
        let mut values: Vec<&str> = g.seen.iter().map(|(_, _, v)| v.as_str()).collect();
        values.sort_unstable();
        values.dedup();
        values.len()
    } else {
        g.seen.len()
    };
    let want = usize::try_from(r.count.unwrap_or(u32::MAX)).unwrap_or(usize::MAX);
    (n >= want).then(|| {
        let events = g.seen.iter().map(|(at, id, _)| (*at, *id)).collect();
        g.seen.clear();
        events
    })
}

fn sequence(c: &Compiled, g: &mut Group, e: &Event) -> Option<Vec<(Timestamp, EventId)>> {
    let steps = &c.rule.steps;
    let at = e.timestamp.as_millis();
    // Too late for the sequence begun: start again.
    if let Some((first, _, _)) = g.seen.first()
        && at - first.as_millis() > c.window_ms
    {
        g.seen.clear();
        g.step = 0;
        g.in_step = 0;
    }
    let cur = &steps[g.step];
    if cur.condition.matches(&e.fields) {
        g.seen.push((e.timestamp, e.id, String::new()));
        g.in_step += 1;
        if g.in_step >= cur.count {
            g.step += 1;
            g.in_step = 0;
            if g.step == steps.len() {
                let events = g.seen.iter().map(|(at, id, _)| (*at, *id)).collect();
                g.seen.clear();
                g.step = 0;
                return Some(events);
            }
        }
    } else if g.step > 0 && steps[g.step - 1].condition.matches(&e.fields) {
        // More of the previous step (another failure after five): keep
        // counting it; the sequence still waits for the next step.
        g.seen.push((e.timestamp, e.id, String::new()));
    } else if g.step == 0 || steps[0].condition.matches(&e.fields) {
        // An event of an earlier step out of order: start again with it.
        g.seen.clear();
        g.step = 0;
        g.in_step = 0;
        if steps[0].condition.matches(&e.fields) {
            g.seen.push((e.timestamp, e.id, String::new()));
            g.in_step = 1;
        }
    }
    if g.seen.len() > MAX_EVENTS_PER_GROUP {
        let extra = g.seen.len() - MAX_EVENTS_PER_GROUP;
        g.seen.drain(..extra);
    }
    None
}

#[cfg(test)]
mod tests {
    use garrison_core::TenantId;

    use super::*;

    fn w(pairs: &[(&str, &str)]) -> Where {
        Where(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), vec![Some((*v).to_owned())]))
                .collect(),
        )
    }

    fn rule(kind: CorrelationKind) -> CorrelationRule {
        CorrelationRule {
            id: "r".into(),
            title: "t".into(),
            kind,
            description: None,
            level: "high".into(),
            status: None,
            group_by: vec!["source.ip".into()],
            window: "10m".into(),
            condition: None,
            distinct: None,
            count: None,
            steps: Vec::new(),
            tags: Vec::new(),
        }
    }

    fn brute_force() -> Compiled {
        Compiled::new(CorrelationRule {
            steps: vec![
                Step {
                    name: None,
                    condition: w(&[
                        ("event.category", "authentication"),
                        ("event.outcome", "failure"),
                    ]),
                    count: 3,
                },
                Step {
                    name: None,
                    condition: w(&[
                        ("event.category", "authentication"),
                        ("event.outcome", "success"),
                    ]),
                    count: 1,
                },
            ],
            ..rule(CorrelationKind::Sequence)
        })
        .expect("valid")
    }

    fn port_scan() -> Compiled {
        Compiled::new(CorrelationRule {
            condition: Some(w(&[("event.category", "network")])),
            distinct: Some("destination.port".into()),
            count: Some(4),
            window: "1m".into(),
            ..rule(CorrelationKind::Threshold)
        })
        .expect("valid")
    }

    fn ev(sec: i64, src: &str, fields: &[(&'static str, Value)]) -> Event {
        let mut f = Fields::new();
        f.set_ip("source.ip", src);
        for (k, v) in fields {
            f.set(*k, v.clone());
        }
        Event {
            id: EventId::new(),
            tenant_id: TenantId::new(),
            timestamp: Timestamp::from_millis(1_700_000_000_000 + sec * 1000),
            received_at: Timestamp::from_millis(0),
            source_id: "t".into(),
            parser: "t".into(),
            severity: 0,
            fields: f,
            original: String::new(),
        }
    }

    fn logon(sec: i64, src: &str, outcome: &str) -> Event {
        ev(
            sec,
            src,
            &[
                (
                    "event.category",
                    Value::List(vec![Value::Str("authentication".into())]),
                ),
                ("event.outcome", Value::Str(outcome.into())),
            ],
        )
    }

    #[test]
    fn failures_then_a_success_fire_once_with_their_events() {
        let rules = [brute_force()];
        let mut st = CorrelationState::default();
        let mut out = Vec::new();
        // A success alone, and two failures then a success: nothing.
        for e in [
            logon(0, "10.0.0.1", "success"),
            logon(1, "10.0.0.1", "failure"),
            logon(2, "10.0.0.1", "failure"),
            logon(3, "10.0.0.1", "success"),
        ] {
            st.observe(&rules, &e, &mut out);
        }
        assert!(out.is_empty(), "{out:?}");
        let evs = [
            logon(10, "10.0.0.1", "failure"),
            logon(11, "10.0.0.2", "failure"), // another key
            logon(12, "10.0.0.1", "failure"),
            logon(13, "10.0.0.1", "failure"),
            logon(14, "10.0.0.1", "failure"), // a fourth failure is kept
            logon(15, "10.0.0.1", "success"),
        ];
        for e in &evs {
            st.observe(&rules, e, &mut out);
        }
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].key, ["10.0.0.1"]);
        assert_eq!(
            out[0].events.iter().map(|(_, id)| *id).collect::<Vec<_>>(),
            [evs[0].id, evs[2].id, evs[3].id, evs[4].id, evs[5].id]
        );
        // Counting starts afresh.
        out.clear();
        st.observe(&rules, &logon(16, "10.0.0.1", "success"), &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn a_sequence_slower_than_its_window_does_not_fire() {
        let rules = [brute_force()];
        let mut st = CorrelationState::default();
        let mut out = Vec::new();
        for e in [
            logon(0, "10.0.0.1", "failure"),
            logon(1, "10.0.0.1", "failure"),
            logon(2, "10.0.0.1", "failure"),
            logon(700, "10.0.0.1", "success"),
        ] {
            st.observe(&rules, &e, &mut out);
        }
        assert!(out.is_empty());
    }

    #[test]
    fn distinct_ports_within_the_window_make_a_scan() {
        let rules = [port_scan()];
        let mut st = CorrelationState::default();
        let mut out = Vec::new();
        let net = |sec, port: i64| {
            ev(
                sec,
                "203.0.113.9",
                &[
                    ("event.category", Value::Str("network".into())),
                    ("destination.port", Value::Int(port)),
                ],
            )
        };
        // The same port again and again is no scan; three distinct ports,
        // then a fourth 70 s later, when the others have left the window.
        for e in [net(0, 22), net(1, 22), net(2, 22), net(3, 80), net(4, 443)] {
            st.observe(&rules, &e, &mut out);
        }
        st.observe(&rules, &net(70, 8080), &mut out);
        assert!(out.is_empty(), "{out:?}");
        st.observe(&rules, &net(71, 3389), &mut out);
        st.observe(&rules, &net(72, 445), &mut out);
        assert!(out.is_empty(), "{out:?}");
        st.observe(&rules, &net(73, 21), &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].events.len(), 4);
    }

    #[test]
    fn bad_rules_are_refused_with_the_reason() {
        let no_count = Compiled::new(CorrelationRule {
            condition: Some(w(&[("a", "b")])),
            ..rule(CorrelationKind::Threshold)
        });
        assert!(no_count.expect_err("refused").contains("count"));
        let one_step = Compiled::new(CorrelationRule {
            steps: vec![Step {
                name: None,
                condition: w(&[("a", "b")]),
                count: 1,
            }],
            ..rule(CorrelationKind::Sequence)
        });
        assert!(one_step.expect_err("refused").contains("two"));
        assert!(parse_window("10x").is_err());
        assert!(parse_window("0s").is_err());
        assert!(parse_window("8d").is_err());
        assert_eq!(parse_window("2h"), Ok(Duration::from_secs(7200)));
    }

    #[test]
    fn rules_read_from_yaml_and_refuse_what_is_wrong() {
        let c = from_yaml(
            "id: bf\ntitle: Brute force\nkind: sequence\nlevel: high\ngroup_by: [source.ip]\nwindow: 10m\nsteps:\n  - where: { event.category: authentication, event.outcome: failure }\n    count: 5\n  - where: { event.category: authentication, event.outcome: [success, unknown] }\n",
        )
        .expect("valid");
        assert_eq!(c.rule.steps.len(), 2);
        assert_eq!(c.rule.steps[0].count, 5);
        assert_eq!(c.window_ms, 600_000);
        assert!(looks_like_correlation("id: x\nkind: threshold\n"));
        assert!(!looks_like_correlation(
            "title: x\ndetection:\n  kind: threshold\n"
        ));
        let e = from_yaml(
            "id: x\ntitle: y\nkind: threshold\ngroup_by: [a]\nwindow: 1m\ncount: 3\nsurprise: 1\n",
        )
        .expect_err("unknown field");
        assert!(e.contains("surprise"), "{e}");
        let e = from_yaml("id: x\ntitle: y\nkind: sometimes\n").expect_err("bad kind");
        assert!(e.contains("kind"), "{e}");
        assert!(from_yaml(&"#".repeat(MAX_RULE_FILE_BYTES + 1)).is_err());
    }

    #[test]
    fn keys_are_bounded_and_pruned() {
        let rules = [port_scan()];
        let mut st = CorrelationState::default();
        let mut out = Vec::new();
        for i in 0..(MAX_GROUPS + 10) {
            let ip = std::net::Ipv4Addr::from(0x0a00_0000_u32 + u32::try_from(i).expect("fits"));
            let e = ev(
                i64::try_from(i).expect("fits") / 1000,
                &ip.to_string(),
                &[("event.category", Value::Str("network".into()))],
            );
            st.observe(&rules, &e, &mut out);
        }
        assert!(st.len() <= MAX_GROUPS);
        st.prune(&rules, Timestamp::from_millis(1_800_000_000_000));
        assert!(st.is_empty());
    }

    #[test]
    fn hostile_yaml_is_refused_with_a_reason() {
        // A YAML alias bomb ("billion laughs"): 10^10 nodes if expanded.
        let bomb = crate::yaml_alias_bomb();
        // Inside a field the rule reads, so that the parser has to follow
        // the aliases (an unknown top-level key would be refused first).
        let bomb = format!(
            "id: bomb\ntitle: t\nkind: threshold\ngroup_by: [source.ip]\nwindow: 5m\ntags:\n{}",
            bomb.lines()
                .map(|l| format!("  - {{{l}}}\n"))
                .collect::<String>()
        );
        assert!(bomb.len() < MAX_RULE_FILE_BYTES);
        // Refused where the first nested list stands in for a tag: the
        // reader checks types as it goes and never expands the aliases.
        let e = from_yaml(&bomb).expect_err("the bomb is refused");
        assert!(e.contains("tags[0]"), "{e}");
        // Nesting deeper than the parser allows is refused, not recursed
        // into.
        let nested = format!(
            "id: n\ntitle: t\nkind: threshold\ngroup_by: [source.ip]\nwindow: 5m\nwhere: {}x{}\n",
            "{a: ".repeat(200),
            "}".repeat(200)
        );
        assert!(from_yaml(&nested).is_err());
        // Too large a file, before any parsing.
        let huge = format!("id: h\ntitle: '{}'\n", "x".repeat(MAX_RULE_FILE_BYTES));
        let e = from_yaml(&huge).expect_err("too large");
        assert!(e.contains("larger than"), "{e}");
        // Script in a title is kept as text (escaped where shown), not refused
        // or interpreted here.
        let r = from_yaml(
            "id: s\ntitle: \"<script>alert(1)</script>\"\nkind: threshold\ngroup_by: [source.ip]\nwindow: 5m\ncount: 3\nwhere:\n  event.category: authentication\n",
        );
        let c = r.expect("a rule with markup in its title loads");
        assert_eq!(c.rule.title, "<script>alert(1)</script>");
    }
}
