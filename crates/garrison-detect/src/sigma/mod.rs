//! Sigma detection rules, as SigmaHQ writes them, evaluated against
//! Garrison's normalised events.
//!
//! [`SigmaRules::compile`] reads rules from `(origin, yaml)` pairs (the
//! caller reads the files), keeps every rule's metadata, and lists every
//! rule it cannot load with the reason; one bad rule never stops the
//! others. [`SigmaRules::matches`] runs, for one event, only the rules
//! whose logsource the event satisfies (an index by Windows channel and
//! event id, or by EVE `event_type` / Zeek log / syslog program), with
//! values precompiled (ASCII case folding without allocation,
//! Aho-Corasick for lists of substrings, the linear-time `regex` crate for
//! wildcards and `re`). `docs/sigma.md` documents the field mappings, the
//! logsources and what is supported.

mod compile;
mod condition;
mod logsource;
mod pattern;
mod prefilter;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use garrison_core::event::{Event, Fields, Value};

pub use logsource::LogSource;
use logsource::Route;
use pattern::{Pat, with_text};

/// A rule's severity, as Sigma names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Informational => "informational",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "informational" => Self::Informational,
            "low" => Self::Low,
            "medium" => Self::Medium,
            "high" => Self::High,
            "critical" => Self::Critical,
            _ => return None,
        })
    }
}

/// What a rule says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMeta {
    /// The rule's `id` (a UUID in SigmaHQ): what tenants enable, disable
    /// and except by.
    pub id: Arc<str>,
    pub title: String,
    /// Where it was loaded from (the caller's name for the file).
    pub origin: String,
    /// `medium` when the rule names none.
    pub level: Level,
    pub status: Option<String>,
    pub description: Option<String>,
    pub author: Option<String>,
    /// As written; ATT&CK ones are `attack.tNNNN`, `attack.<tactic>`.
    pub tags: Vec<String>,
    pub logsource: LogSource,
    pub falsepositives: Vec<String>,
    pub references: Vec<String>,
}

impl RuleMeta {
    /// The ATT&CK technique ids among the tags (`attack.t1059.001` →
    /// `T1059.001`).
    #[must_use]
    pub fn attack_techniques(&self) -> Vec<String> {
        self.tags
            .iter()
            .filter_map(|t| t.strip_prefix("attack.t"))
            .filter(|t| t.starts_with(|c: char| c.is_ascii_digit()))
            .map(|t| format!("T{}", t.to_ascii_uppercase()))
            .collect()
    }
}

/// A rule that could not be loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub origin: String,
    /// The rule's id, else its title, when the YAML got that far.
    pub rule: Option<String>,
    pub reason: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.rule {
            Some(r) => write!(f, "{} ({r}): {}", self.origin, self.reason),
            None => write!(f, "{}: {}", self.origin, self.reason),
        }
    }
}

/// One rule that matched an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMatch {
    /// The rule's index in the set ([`SigmaRules::rule`]).
    pub index: usize,
    /// The rule's id (shared, cloning it does not allocate).
    pub id: Arc<str>,
}

/// Where a rule's field is found in an event: event field names, first
/// present wins, as slots resolved once per event.
#[derive(Debug, Clone)]
pub(crate) struct FieldRef(Box<[u16]>);

impl PartialEq for FieldRef {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

/// One `field|modifiers: values` test.
#[derive(Debug)]
pub(crate) struct Item {
    field: FieldRef,
    test: Test,
    /// Literals one of which the field's value contains whenever the
    /// item matches (ASCII case folded), when known: the prefilter's.
    needles: Option<Vec<(String, LitKind)>>,
    /// The item's exact literal form, when it has one: the bucket scans
    /// find its result, and evaluation reads a bit.
    lits: Option<Lits>,
}

/// An item that is exactly "any (or all) of these literals, at these
/// positions, ASCII case folded": no `null`, numbers, wildcards in the
/// middle, regexes or `cased`. The prefilter's automata test its
/// literals in the same pass as they find the prefilter's needles, so
/// evaluating the item is a bit lookup.
#[derive(Debug)]
pub(crate) struct Lits {
    pub(crate) atoms: Vec<(String, LitKind)>,
    /// Every atom must hold (`|all`), else any one.
    pub(crate) all: bool,
    /// The item's first bit in the per-event literal set ("any": the one
    /// bit of all its atoms; "all": one bit per atom, in order);
    /// [`NO_BIT`] when the set is full (the item is then evaluated).
    pub(crate) bit: u32,
}

/// Where a literal must occur in the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum LitKind {
    Eq,
    Prefix,
    Suffix,
    Contains,
}

/// [`Lits::bit`] of an item that has none.
pub(crate) const NO_BIT: u32 = u32::MAX;

/// Per-event literal results: this many 64-bit words on the stack.
pub(crate) const LIT_WORDS: usize = 256;

#[derive(Debug)]
pub(crate) enum Test {
    /// `|exists: true/false`.
    Exists(bool),
    /// Values: any of them (or all with `|all`); `contains` needles of an
    /// "any" test share one automaton.
    Values {
        any_contains: Option<pattern::AnyContains>,
        pats: Vec<Pat>,
        all: bool,
    },
}

/// A search identifier of `detection`.
#[derive(Debug)]
pub(crate) enum Detection {
    /// A map (all items), or a list of maps (any of them).
    Maps(Vec<Vec<Item>>),
    /// Field-less values, searched in every text value of the event.
    Keywords {
        any_contains: Option<pattern::AnyContains>,
        pats: Vec<Pat>,
        all: bool,
    },
}

/// A compiled `condition`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cond {
    Det(usize),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    /// `N of` a list of detections (all of them when `None`).
    Of(Option<usize>, Vec<usize>),
    Const(bool),
}

#[derive(Debug)]
pub(crate) struct Compiled {
    detections: Vec<Detection>,
    condition: Cond,
    /// (field, literal) pairs one of which an event must hold for the
    /// rule to match; `None` when the rule must always be evaluated.
    prefilter: Option<Vec<prefilter::Clause>>,
}

/// Rule lists of one Windows channel.
#[derive(Debug, Default)]
struct ChannelRoutes {
    any: Bucket,
    by_id: HashMap<i64, Bucket, Fx>,
}

use prefilter::Bucket;

/// A compiled, immutable set of Sigma rules; `Send + Sync`, to be shared
/// in an `Arc` and swapped whole when rules change.
#[derive(Debug, Default)]
pub struct SigmaRules {
    metas: Vec<RuleMeta>,
    compiled: Vec<Compiled>,
    /// Rules that apply to no event Garrison parses (kept for listing).
    unrouted: Vec<(usize, String)>,
    win_all: Bucket,
    win_channels: HashMap<Box<str>, ChannelRoutes, Fx>,
    sources: HashMap<String, Bucket, Fx>,
    /// Event field name → slot.
    slots: HashMap<Box<str>, u16, Fx>,
    /// How many words of the per-event literal set the items use.
    lit_words: usize,
}

/// How many distinct event field names rules may name; the per-event slot
/// table lives on the stack.
pub(crate) const MAX_SLOTS: usize = 2048;

impl SigmaRules {
    /// Compiles rules from `(origin, yaml)` pairs. A file may hold several
    /// YAML documents (`action: global` / `reset` / `repeat` collections).
    /// Returns the set and every rule that failed, with the reason.
    #[must_use]
    pub fn compile<I, O, Y>(rules: I) -> (Self, Vec<LoadError>)
    where
        I: IntoIterator<Item = (O, Y)>,
        O: Into<String>,
        Y: AsRef<str>,
    {
        compile::compile_all(rules)
    }

    /// How many rules loaded.
    #[must_use]
    pub fn len(&self) -> usize {
        self.metas.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.metas.is_empty()
    }

    /// A rule's metadata by index (from [`RuleMatch::index`]).
    ///
    /// # Panics
    /// When `index` is out of range.
    #[must_use]
    pub fn rule(&self, index: usize) -> &RuleMeta {
        &self.metas[index]
    }

    /// Every rule's metadata, by index.
    pub fn rules(&self) -> impl Iterator<Item = &RuleMeta> {
        self.metas.iter()
    }

    /// How many distinct event field names the rules read.
    #[must_use]
    pub fn field_count(&self) -> usize {
        self.slots.len()
    }

    /// Per route: its name, how many rules every event of it runs, and
    /// how many sit behind the literal prefilter (for docs and benches).
    #[must_use]
    pub fn route_sizes(&self) -> Vec<(String, usize, usize)> {
        let mut out = vec![(
            "windows".to_owned(),
            self.win_all.sizes().0,
            self.win_all.sizes().1,
        )];
        for (ch, r) in &self.win_channels {
            let (a, f) = r.any.sizes();
            out.push((ch.to_string(), a, f));
            for (id, b) in &r.by_id {
                let (a, f) = b.sizes();
                out.push((format!("{ch}/{id}"), a, f));
            }
        }
        for (k, b) in &self.sources {
            let (a, f) = b.sizes();
            out.push((k.clone(), a, f));
        }
        out.sort();
        out
    }

    /// A rule's index by id.
    #[must_use]
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.metas.iter().position(|m| &*m.id == id)
    }

    /// Rules that loaded but apply to no event Garrison's parsers produce
    /// (cloud, macOS, ... logsources), with the reason; they never match.
    #[must_use]
    pub fn unrouted(&self) -> &[(usize, String)] {
        &self.unrouted
    }

    /// Appends to `out` the rules `event` matches. Allocates nothing when
    /// no rule matches (beyond `out` growing when one does).
    pub fn matches(&self, event: &Event, out: &mut Vec<RuleMatch>) {
        self.matches_fields(&event.parser, &event.fields, out);
    }

    /// As [`SigmaRules::matches`], for a parser name and fields.
    pub fn matches_fields(&self, parser: &str, fields: &Fields, out: &mut Vec<RuleMatch>) {
        // The slot table is cleared for every event: keep it as small as
        // the rules allow.
        match self.slots.len() {
            0..=256 => self.matches_in::<256>(parser, fields, out),
            257..=1024 => self.matches_in::<1024>(parser, fields, out),
            _ => self.matches_in::<MAX_SLOTS>(parser, fields, out),
        }
    }

    fn matches_in<const N: usize>(&self, parser: &str, fields: &Fields, out: &mut Vec<RuleMatch>) {
        let nslots = self.slots.len().min(N);
        let mut channel = None;
        let mut event_id = None;
        if fields.len() <= SMALL_EVENT {
            // Most events: a byte per slot (the field's position), cleared
            // per event at an eighth of the cost of a reference per slot.
            let mut pos = [0u8; N];
            let mut vals: [Option<&Value>; SMALL_EVENT] = [None; SMALL_EVENT];
            for ((i, (name, value)), v) in fields.iter().enumerate().zip(&mut vals) {
                *v = Some(value);
                if let Some(&s) = self.slots.get(name)
                    && let Some(p) = pos.get_mut(usize::from(s))
                {
                    // `i` < SMALL_EVENT < 255.
                    *p = u8::try_from(i + 1).unwrap_or(0);
                }
                match name {
                    "winlog.channel" => channel = value.as_str(),
                    "winlog.event_id" => event_id = value.as_i64(),
                    _ => {}
                }
            }
            let ev = Eval {
                table: Table::Pos(&pos[..nslots], &vals),
                fields,
                lits: None,
            };
            self.route(parser, channel, event_id, &ev, out);
        } else {
            let mut table: [Option<&Value>; N] = [None; N];
            for (name, value) in fields.iter() {
                if let Some(&s) = self.slots.get(name)
                    && let Some(slot) = table.get_mut(usize::from(s))
                {
                    *slot = Some(value);
                }
                match name {
                    "winlog.channel" => channel = value.as_str(),
                    "winlog.event_id" => event_id = value.as_i64(),
                    _ => {}
                }
            }
            let ev = Eval {
                table: Table::Refs(&table[..nslots]),
                fields,
                lits: None,
            };
            self.route(parser, channel, event_id, &ev, out);
        }
    }

    /// Runs the buckets of the event's routes.
    fn route(
        &self,
        parser: &str,
        channel: Option<&str>,
        event_id: Option<i64>,
        ev: &Eval<'_>,
        out: &mut Vec<RuleMatch>,
    ) {
        let fields = ev.fields;
        // Literal results: every bucket that runs sets the bits of its
        // rules' items (a pure function of the event, so buckets sharing
        // a rule agree).
        let mut bits = [0u64; LIT_WORDS];
        let bits = &mut bits[..self.lit_words];
        let ev = *ev;
        // Windows: its parser, or Windows fields from another JSON
        // shipper (never an EVE, Zeek or syslog record).
        let windows = parser == "windows"
            || (channel.is_some()
                && !matches!(parser, "suricata" | "zeek" | "rfc5424" | "rfc3164"));
        if windows {
            self.run(&self.win_all, &ev, bits, out);
            if let Some(ch) = channel {
                let mut buf = [0u8; 128];
                if let Some(lower) = ascii_lower(ch, &mut buf)
                    && let Some(routes) = self.win_channels.get(lower)
                {
                    self.run(&routes.any, &ev, bits, out);
                    if let Some(list) = event_id.and_then(|id| routes.by_id.get(&id)) {
                        self.run(list, &ev, bits, out);
                    }
                }
            }
            return;
        }
        if self.sources.is_empty() {
            return;
        }
        // Non-Windows: at most a few source keys.
        logsource::source_keys(
            parser,
            |n| fields.get_str(n),
            |k| {
                if let Some(list) = self.sources.get(k) {
                    self.run(list, &ev, bits, out);
                }
            },
        );
    }

    fn run(&self, bucket: &Bucket, ev: &Eval<'_>, bits: &mut [u64], out: &mut Vec<RuleMatch>) {
        bucket.candidates(ev, bits, |ev, i| {
            let i = i as usize;
            let c = &self.compiled[i];
            if ev.cond(&c.condition, &c.detections) {
                out.push(RuleMatch {
                    index: i,
                    id: Arc::clone(&self.metas[i].id),
                });
            }
        });
    }

    /// Gives every literal item of a routed rule its bits, then builds
    /// every bucket's prefilter once all rules are in.
    fn finish(&mut self) {
        let mut routed = vec![true; self.compiled.len()];
        for &(i, _) in &self.unrouted {
            routed[i] = false;
        }
        let capacity = u32::try_from(LIT_WORDS * 64).unwrap_or(u32::MAX);
        let mut next = 0u32;
        let items = self
            .compiled
            .iter_mut()
            .zip(routed)
            .filter(|(_, r)| *r)
            .flat_map(|(c, _)| c.detections.iter_mut())
            .filter_map(|d| match d {
                Detection::Maps(maps) => Some(maps.iter_mut().flatten()),
                Detection::Keywords { .. } => None,
            })
            .flatten();
        for item in items {
            let Some(l) = item.lits.as_mut() else {
                continue;
            };
            if l.atoms.iter().any(|(n, k)| prefilter::short(n, *k)) {
                // A short literal would be reported all over long values:
                // the item is evaluated when its rule is a candidate.
                item.lits = None;
                continue;
            }
            let need = if l.all {
                u32::try_from(l.atoms.len()).unwrap_or(u32::MAX)
            } else {
                1
            };
            if capacity - next < need {
                // The set is full: this item is evaluated.
                item.lits = None;
                continue;
            }
            l.bit = next;
            next += need;
        }
        self.lit_words = (next as usize).div_ceil(64);
        let compiled = &self.compiled;
        self.win_all.finish(compiled);
        for ch in self.win_channels.values_mut() {
            ch.any.finish(compiled);
            for b in ch.by_id.values_mut() {
                b.finish(compiled);
            }
        }
        for b in self.sources.values_mut() {
            b.finish(compiled);
        }
    }

    /// Turns the prefilter and the literal bits off (every routed rule
    /// and item evaluated in full), for tests that compare both ways.
    #[cfg(test)]
    pub(crate) fn evaluate_everything(&mut self) {
        self.win_all.evaluate_everything();
        for ch in self.win_channels.values_mut() {
            ch.any.evaluate_everything();
            for b in ch.by_id.values_mut() {
                b.evaluate_everything();
            }
        }
        for b in self.sources.values_mut() {
            b.evaluate_everything();
        }
    }

    fn add_route(&mut self, index: u32, route: &Route) {
        match route {
            Route::WinAll => self.win_all.rules.push(index),
            Route::WinChannel(ch) => self
                .win_channels
                .entry((*ch).into())
                .or_default()
                .any
                .rules
                .push(index),
            Route::WinEvent(ch, id) => self
                .win_channels
                .entry((*ch).into())
                .or_default()
                .by_id
                .entry(*id)
                .or_default()
                .rules
                .push(index),
            Route::Source(key) => self
                .sources
                .entry(key.clone())
                .or_default()
                .rules
                .push(index),
        }
    }
}

/// Lowercases ASCII text into `buf`; `None` when it does not fit.
fn ascii_lower<'a>(s: &str, buf: &'a mut [u8; 128]) -> Option<&'a str> {
    let b = buf.get_mut(..s.len())?;
    b.copy_from_slice(s.as_bytes());
    b.make_ascii_lowercase();
    std::str::from_utf8(b).ok()
}

/// Events with at most this many fields get the compact slot table.
const SMALL_EVENT: usize = 64;

/// An event's values by slot.
#[derive(Clone, Copy)]
enum Table<'a> {
    /// Per slot, the field's position plus one (0: absent), and the
    /// values by position.
    Pos(&'a [u8], &'a [Option<&'a Value>]),
    /// Per slot, the value (events with many fields).
    Refs(&'a [Option<&'a Value>]),
}

/// One event's values as the rules see them.
#[derive(Clone, Copy)]
pub(crate) struct Eval<'a> {
    table: Table<'a>,
    fields: &'a Fields,
    /// The literal items' results, once the bucket's scan has set them;
    /// `None`: evaluate every item.
    lits: Option<&'a [u64]>,
}

impl Eval<'_> {
    pub(crate) fn get(&self, f: &FieldRef) -> Option<&Value> {
        f.0.iter().find_map(|&s| match self.table {
            // 0: absent (`wrapping_sub` makes it out of range).
            Table::Pos(pos, vals) => pos
                .get(usize::from(s))
                .and_then(|&p| vals.get(usize::from(p).wrapping_sub(1)))
                .copied()
                .flatten(),
            Table::Refs(t) => t.get(usize::from(s)).copied().flatten(),
        })
    }

    fn cond(&self, c: &Cond, dets: &[Detection]) -> bool {
        match c {
            Cond::Det(i) => self.detection(&dets[*i]),
            Cond::Not(c) => !self.cond(c, dets),
            Cond::And(cs) => cs.iter().all(|c| self.cond(c, dets)),
            Cond::Or(cs) => cs.iter().any(|c| self.cond(c, dets)),
            Cond::Of(None, ds) => ds.iter().all(|&i| self.detection(&dets[i])),
            Cond::Of(Some(n), ds) => {
                let mut hits = 0;
                for &i in ds {
                    if self.detection(&dets[i]) {
                        hits += 1;
                        if hits >= *n {
                            return true;
                        }
                    }
                }
                false
            }
            Cond::Const(b) => *b,
        }
    }

    fn detection(&self, d: &Detection) -> bool {
        match d {
            Detection::Maps(maps) => maps
                .iter()
                .any(|items| items.iter().all(|item| self.item(item))),
            Detection::Keywords {
                any_contains,
                pats,
                all,
            } => {
                let texts = || {
                    self.fields.iter().flat_map(|(_, v)| match v {
                        Value::List(items) => items.as_slice(),
                        other => std::slice::from_ref(other),
                    })
                };
                let text_match =
                    |p: &Pat| texts().any(|v| matches!(v, Value::Str(_)) && p.test(v, self));
                if *all {
                    pats.iter().all(text_match)
                } else {
                    any_contains
                        .as_ref()
                        .is_some_and(|ac| ac.is_match_any(texts().filter_map(Value::as_str)))
                        || pats.iter().any(text_match)
                }
            }
        }
    }

    fn item(&self, item: &Item) -> bool {
        if let (Some(bits), Some(l)) = (self.lits, &item.lits)
            && l.bit != NO_BIT
        {
            let bit = |b: u32| bits[(b / 64) as usize] & (1 << (b % 64)) != 0;
            return if l.all {
                (l.bit..l.bit + l.atoms.len() as u32).all(bit)
            } else {
                bit(l.bit)
            };
        }
        let v = self.get(&item.field);
        match &item.test {
            Test::Exists(want) => v.is_some() == *want,
            Test::Values {
                any_contains,
                pats,
                all,
            } => {
                let Some(v) = v else {
                    // Only `null` matches a missing field.
                    return if *all {
                        !pats.is_empty()
                            && any_contains.is_none()
                            && pats.iter().all(|p| matches!(p, Pat::Null))
                    } else {
                        pats.iter().any(|p| matches!(p, Pat::Null))
                    };
                };
                if *all {
                    pats.iter().all(|p| p.test(v, self))
                } else {
                    any_contains.as_ref().is_some_and(|ac| contains_in(ac, v))
                        || pats.iter().any(|p| p.test(v, self))
                }
            }
        }
    }
}

fn contains_in(ac: &pattern::AnyContains, v: &Value) -> bool {
    match v {
        Value::List(items) => items.iter().any(|i| contains_in(ac, i)),
        other => with_text(other, |s| ac.is_match(s)),
    }
}

/// A fast hasher for the rule set's own keys (field names, channels):
/// FxHash's mixing. Keys are the rules'; events only look them up.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

pub(crate) type Fx = BuildHasherDefault<FxHasher>;

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0xf135_7aea_2e62_a9c5;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(26) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.0 = (self.0.rotate_left(26) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(26) ^ u64::from(i)).wrapping_mul(0xf135_7aea_2e62_a9c5);
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(26) ^ i).wrapping_mul(0xf135_7aea_2e62_a9c5);
    }

    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }

    fn write_i64(&mut self, i: i64) {
        self.write_u64(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests;
