//! The prefilter: most rules can only match when one of a few literals
//! occurs in one field (`Image|endswith: '\cmd.exe'` needs `\cmd.exe` in
//! `Image`). Each bucket (the rules of one logsource route) runs one
//! Aho-Corasick automaton per field over the event's value, finding every
//! literal of every rule at once, and evaluates only the rules whose
//! literal occurred, plus the rules no literal describes.

use std::collections::HashMap;

use aho_corasick::automaton::OverlappingState;
use aho_corasick::{AhoCorasick, AhoCorasickKind, Anchored, Input, MatchKind, StartKind};

use super::pattern::with_text;
use super::{Compiled, Cond, Detection, Eval, FieldRef, LitKind, NO_BIT};
use garrison_core::event::Value;

/// A literal set is only worth it while it is this small; a clause
/// needing more is dropped.
const MAX_NEEDLES_PER_CLAUSE: usize = 4096;
/// The most clauses kept per rule (all must hold).
pub(crate) const MAX_CLAUSES: usize = 8;

/// One clause: (field, literal, where) triples, one of which must occur.
pub(crate) type Clause = Vec<(FieldRef, String, LitKind)>;

/// Clauses that must all hold (each: one of its literals occurs) for
/// `cond` to hold; `None` when nothing is known.
pub(crate) fn required(cond: &Cond, dets: &[Detection]) -> Option<Vec<Clause>> {
    let r = cnf(cond, dets)?;
    (!r.is_empty()).then_some(r)
}

fn cnf(cond: &Cond, dets: &[Detection]) -> Option<Vec<Clause>> {
    match cond {
        Cond::Det(i) => det_cnf(&dets[*i]),
        Cond::And(cs) => and(cs.iter().map(|c| cnf(c, dets))),
        Cond::Of(None, ids) => and(ids.iter().map(|&i| det_cnf(&dets[i]))),
        Cond::Or(cs) => or(cs.iter().map(|c| cnf(c, dets))),
        Cond::Of(Some(_), ids) => or(ids.iter().map(|&i| det_cnf(&dets[i]))),
        Cond::Not(_) | Cond::Const(_) => None,
    }
}

/// `contains` literals shorter than this (` -`, `/c`, `.js`) occur in
/// most command lines: the scan reports every occurrence, so a clause
/// with one is kept only when the rule has no better clause.
pub(crate) const SHORT_LITERAL: usize = 3;

/// Whether a literal is short (see [`SHORT_LITERAL`]); anchored ones
/// (prefix, suffix, whole value) cost nothing extra.
pub(crate) fn short(needle: &str, kind: LitKind) -> bool {
    needle.len() < SHORT_LITERAL && place(needle, kind) == Place::Anywhere
}

/// Whether a clause has a short literal.
fn weak(c: &Clause) -> bool {
    c.iter().any(|(_, n, k)| short(n, *k))
}

/// All clauses of every part that has some (the smallest ones first);
/// clauses with a short literal are dropped when another is left (any
/// subset of the clauses is still necessary for the rule).
fn and(parts: impl Iterator<Item = Option<Vec<Clause>>>) -> Option<Vec<Clause>> {
    let mut out: Vec<Clause> = parts.flatten().flatten().collect();
    if out.is_empty() {
        return None;
    }
    if out.iter().any(|c| !weak(c)) {
        out.retain(|c| !weak(c));
    }
    out.sort_by_key(Vec::len);
    out.truncate(MAX_CLAUSES);
    Some(out)
}

/// One clause: the union of each part's smallest clause; every part must
/// have one.
fn or(parts: impl Iterator<Item = Option<Vec<Clause>>>) -> Option<Vec<Clause>> {
    let mut clause = Vec::new();
    for p in parts {
        let smallest = p?.into_iter().min_by_key(|c| (weak(c), c.len()))?;
        clause.extend(smallest);
        if clause.len() > MAX_NEEDLES_PER_CLAUSE {
            return None;
        }
    }
    Some(vec![clause])
}

fn det_cnf(d: &Detection) -> Option<Vec<Clause>> {
    match d {
        Detection::Keywords { .. } => None,
        Detection::Maps(maps) => or(maps.iter().map(|items| {
            and(items.iter().map(|item| {
                item.needles.as_ref().map(|ns| {
                    vec![
                        ns.iter()
                            .map(|(n, k)| (item.field.clone(), n.clone(), *k))
                            .collect::<Clause>(),
                    ]
                })
            }))
        })),
    }
}

/// The rules of one route, with their prefilter.
#[derive(Debug, Default)]
pub(crate) struct Bucket {
    /// Every rule of the route (while building).
    pub(crate) rules: Vec<u32>,
    /// Rules evaluated for every event.
    always: Vec<u32>,
    groups: Vec<Group>,
    /// Rules with a prefilter, by position in `marks`.
    filtered: Vec<u32>,
    /// Per filtered rule: the mask of all its clauses.
    full: Vec<u8>,
    /// Whether the groups find every literal item of the bucket's rules
    /// (else the rules are evaluated item by item).
    exact: bool,
}

/// One field's literals across a bucket's rules: the prefilter's needles
/// and the literal items' atoms, by where they must occur.
#[derive(Debug)]
struct Group {
    field: FieldRef,
    /// Literals that may occur anywhere (`contains`; also long suffixes):
    /// one pass over the value.
    anywhere: Option<Table>,
    /// Prefixes and whole values: an anchored walk from the start, which
    /// stops where no literal continues.
    head: Option<Table>,
    /// Suffixes: an anchored walk over the value's end, reversed.
    tail: Option<Table>,
}

/// One automaton and, per literal, what its occurrence means.
#[derive(Debug)]
struct Table {
    ac: AhoCorasick,
    /// The longest literal (the tail reverses only that much).
    max_len: usize,
    /// Per literal: (where, position in `Bucket::filtered`, clause bit)
    /// of the rules needing it.
    rules_of: Vec<Vec<(LitKind, u16, u8)>>,
    /// Per literal: (where, bit) of the literal items it sets.
    atoms_of: Vec<Vec<(LitKind, u32)>>,
}

/// The largest automaton kept as a DFA (see [`TableLits::build`]).
const MAX_DFA_BYTES: usize = 512 * 1024;

/// Suffixes longer than this are looked for anywhere (and their position
/// checked) rather than reversed on the stack.
const TAIL_MAX: usize = 256;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Anywhere,
    Head,
    Tail,
}

fn place(needle: &str, kind: LitKind) -> Place {
    match kind {
        LitKind::Contains => Place::Anywhere,
        LitKind::Prefix | LitKind::Eq => Place::Head,
        LitKind::Suffix if needle.len() <= TAIL_MAX => Place::Tail,
        LitKind::Suffix => Place::Anywhere,
    }
}

/// Per literal: the (where, rule position, clause bit) it marks.
type RuleMarks = Vec<(LitKind, u16, u8)>;

/// A table while building.
#[derive(Default)]
struct TableLits {
    ids: HashMap<String, usize>,
    rules_of: Vec<RuleMarks>,
    atoms_of: Vec<Vec<(LitKind, u32)>>,
}

impl TableLits {
    fn id(&mut self, needle: &str) -> usize {
        if let Some(&id) = self.ids.get(needle) {
            return id;
        }
        self.rules_of.push(Vec::new());
        self.atoms_of.push(Vec::new());
        self.ids.insert(needle.to_owned(), self.rules_of.len() - 1);
        self.rules_of.len() - 1
    }

    /// The automaton (reversed literals for the tail); `Err` when too
    /// large.
    fn build(self, place: Place) -> Result<Option<Table>, Vec<RuleMarks>> {
        if self.ids.is_empty() {
            return Ok(None);
        }
        let mut needles: Vec<(usize, Vec<u8>)> = self
            .ids
            .into_iter()
            .map(|(n, i)| {
                let mut b = n.into_bytes();
                if place == Place::Tail {
                    b.reverse();
                }
                (i, b)
            })
            .collect();
        needles.sort_unstable();
        let max_len = needles.iter().map(|(_, n)| n.len()).max().unwrap_or(0);
        let mut b = AhoCorasick::builder();
        b.ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .start_kind(if place == Place::Anywhere {
                StartKind::Unanchored
            } else {
                StartKind::Anchored
            });
        // A DFA (one table lookup per byte) while it stays small enough
        // to live in the cache; a larger one (the process-creation
        // `CommandLine` set is 5,000 literals: 40-60 MB as a DFA) misses
        // the cache at nearly every byte, and the contiguous NFA (a
        // fiftieth of the size) is faster.
        // (Hundreds of literals never make a small DFA: not even tried,
        // which also spares the second or so building those took.)
        let dfa = (needles.len() <= 256)
            .then(|| {
                b.clone()
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(needles.iter().map(|(_, n)| n))
                    .ok()
            })
            .flatten()
            .filter(|ac| ac.memory_usage() <= MAX_DFA_BYTES);
        let built = match dfa {
            Some(ac) => Ok(ac),
            None => b
                .clone()
                .kind(Some(AhoCorasickKind::ContiguousNFA))
                .build(needles.iter().map(|(_, n)| n))
                .or_else(|_| b.build(needles.iter().map(|(_, n)| n))),
        };
        match built {
            Ok(ac) => Ok(Some(Table {
                ac,
                max_len,
                rules_of: self.rules_of,
                atoms_of: self.atoms_of,
            })),
            Err(_) => Err(self.rules_of),
        }
    }
}

/// A group while building.
struct Lits {
    field: FieldRef,
    anywhere: TableLits,
    head: TableLits,
    tail: TableLits,
}

impl Lits {
    fn table(&mut self, needle: &str, kind: LitKind) -> &mut TableLits {
        match place(needle, kind) {
            Place::Anywhere => &mut self.anywhere,
            Place::Head => &mut self.head,
            Place::Tail => &mut self.tail,
        }
    }
}

fn group_of<'a>(by_field: &'a mut Vec<Lits>, field: &FieldRef) -> &'a mut Lits {
    let g = match by_field.iter().position(|l| &l.field == field) {
        Some(g) => g,
        None => {
            by_field.push(Lits {
                field: field.clone(),
                anywhere: TableLits::default(),
                head: TableLits::default(),
                tail: TableLits::default(),
            });
            by_field.len() - 1
        }
    };
    &mut by_field[g]
}

/// Clause marks fit a stack array up to this many filtered rules per
/// bucket; beyond, rules are evaluated without the prefilter.
const MAX_FILTERED: usize = 4096;

impl Bucket {
    pub(crate) fn finish(&mut self, compiled: &[Compiled]) {
        let mut by_field: Vec<Lits> = Vec::new();
        for &r in &self.rules {
            let rule = &compiled[r as usize];
            // Every literal item of the rule, whether filtered or not.
            for item in rule.detections.iter().flat_map(|d| match d {
                Detection::Maps(maps) => maps.as_slice(),
                Detection::Keywords { .. } => &[],
            }) {
                for item in item {
                    let Some(l) = item.lits.as_ref().filter(|l| l.bit != NO_BIT) else {
                        continue;
                    };
                    let g = group_of(&mut by_field, &item.field);
                    for (i, (needle, kind)) in l.atoms.iter().enumerate() {
                        let bit = if l.all {
                            l.bit + u32::try_from(i).unwrap_or(u32::MAX)
                        } else {
                            l.bit
                        };
                        let t = g.table(needle, *kind);
                        let id = t.id(needle);
                        if !t.atoms_of[id].contains(&(*kind, bit)) {
                            t.atoms_of[id].push((*kind, bit));
                        }
                    }
                }
            }
            let pre = rule.prefilter.as_ref();
            let Some(pre) =
                pre.filter(|_| self.filtered.len() < MAX_FILTERED.min(usize::from(u16::MAX)))
            else {
                self.always.push(r);
                continue;
            };
            let pos = u16::try_from(self.filtered.len()).unwrap_or(u16::MAX);
            self.filtered.push(r);
            let clauses = pre.len().min(MAX_CLAUSES);
            self.full.push(u8::MAX >> (8 - clauses));
            for (bit, (field, needle, kind)) in pre
                .iter()
                .take(MAX_CLAUSES)
                .enumerate()
                .flat_map(|(c, cl)| cl.iter().map(move |x| (c, x)))
            {
                let bit = 1u8 << bit;
                let t = group_of(&mut by_field, field).table(needle, *kind);
                let id = t.id(needle);
                if !t.rules_of[id].contains(&(*kind, pos, bit)) {
                    t.rules_of[id].push((*kind, pos, bit));
                }
            }
        }
        self.exact = true;
        for l in by_field {
            let mut tables = [None, None, None];
            for (slot, (lits, place)) in tables.iter_mut().zip([
                (l.anywhere, Place::Anywhere),
                (l.head, Place::Head),
                (l.tail, Place::Tail),
            ]) {
                match lits.build(place) {
                    Ok(t) => *slot = t,
                    Err(rules_of) => {
                        // Too large an automaton: evaluate those rules
                        // always, and every item of the bucket's rules in
                        // full.
                        self.exact = false;
                        for rs in rules_of {
                            for (_, p, _) in rs {
                                self.always.push(self.filtered[usize::from(p)]);
                                self.full[usize::from(p)] = 0;
                            }
                        }
                    }
                }
            }
            let [anywhere, head, tail] = tables;
            self.groups.push(Group {
                field: l.field,
                anywhere,
                head,
                tail,
            });
        }
        self.always.sort_unstable();
        self.always.dedup();
        self.rules = Vec::new();
    }

    /// Evaluates every rule of the bucket, every item in full: the
    /// reference the tests compare the prefilter and the literal bits
    /// with.
    #[cfg(test)]
    pub(crate) fn evaluate_everything(&mut self) {
        self.exact = false;
        self.always.extend(std::mem::take(&mut self.filtered));
        self.full.clear();
        self.groups.clear();
    }

    /// (rules evaluated for every event, rules behind the prefilter).
    pub(crate) fn sizes(&self) -> (usize, usize) {
        (self.always.len(), self.filtered.len())
    }

    /// Scans the event's fields (setting the literal items' bits in
    /// `bits`), then calls `f` with every rule worth evaluating and the
    /// event as it should evaluate it.
    pub(crate) fn candidates(
        &self,
        ev: &Eval<'_>,
        bits: &mut [u64],
        f: impl FnMut(&Eval<'_>, u32),
    ) {
        // The marks are cleared for every event: keep them small.
        if self.filtered.len() <= 256 {
            self.scan_and_run(ev, bits, &mut [0u8; 256], f);
        } else if self.filtered.len() <= 1024 {
            self.scan_and_run(ev, bits, &mut [0u8; 1024], f);
        } else {
            self.scan_and_run(ev, bits, &mut [0u8; MAX_FILTERED], f);
        }
    }

    fn scan_and_run(
        &self,
        ev: &Eval<'_>,
        bits: &mut [u64],
        marks: &mut [u8],
        mut f: impl FnMut(&Eval<'_>, u32),
    ) {
        let marks = &mut marks[..self.filtered.len()];
        let mut touched = Touched {
            list: [0; TOUCHED],
            len: 0,
        };
        for g in &self.groups {
            let Some(v) = ev.get(&g.field) else { continue };
            scan(g, v, marks, bits, &mut touched);
        }
        let ev = Eval {
            lits: self.exact.then_some(&*bits),
            ..*ev
        };
        for &r in &self.always {
            f(&ev, r);
        }
        if touched.len == 0 {
            return;
        }
        if touched.len <= TOUCHED {
            // Only the rules some literal marked, in rule order.
            let list = &mut touched.list[..touched.len];
            list.sort_unstable();
            for &p in &*list {
                let p = usize::from(p);
                if marks[p] == self.full[p] && self.full[p] != 0 {
                    f(&ev, self.filtered[p]);
                }
            }
            return;
        }
        for (i, (&m, &full)) in marks.iter().zip(&self.full).enumerate() {
            if m == full && full != 0 {
                f(&ev, self.filtered[i]);
            }
        }
    }
}

/// How many marked rules a bucket lists per event; past this, every
/// rule's marks are read.
const TOUCHED: usize = 128;

/// The rules marked so far (`len` past `TOUCHED`: too many to list).
struct Touched {
    list: [u16; TOUCHED],
    len: usize,
}

fn scan(g: &Group, v: &Value, marks: &mut [u8], bits: &mut [u64], touched: &mut Touched) {
    if let Value::List(items) = v {
        for i in items {
            scan(g, i, marks, bits, touched);
        }
        return;
    }
    with_text(v, |s| {
        let s = s.as_bytes();
        let len = s.len();
        let mut hit = |t: &Table, id: usize, start: usize, end: usize| {
            let at = |kind: LitKind| match kind {
                LitKind::Contains => true,
                LitKind::Prefix => start == 0,
                LitKind::Suffix => end == len,
                LitKind::Eq => start == 0 && end == len,
            };
            for &(kind, p, bit) in &t.rules_of[id] {
                if at(kind) {
                    let m = &mut marks[usize::from(p)];
                    if *m == 0 {
                        if let Some(t) = touched.list.get_mut(touched.len) {
                            *t = p;
                        }
                        touched.len += 1;
                    }
                    *m |= bit;
                }
            }
            for &(kind, bit) in &t.atoms_of[id] {
                if at(kind) {
                    bits[(bit / 64) as usize] |= 1 << (bit % 64);
                }
            }
        };
        if let Some(t) = &g.anywhere {
            for m in t.ac.find_overlapping_iter(s) {
                hit(t, m.pattern().as_usize(), m.start(), m.end());
            }
        }
        if let Some(t) = &g.head {
            let mut state = OverlappingState::start();
            let input = Input::new(s).anchored(Anchored::Yes);
            while t.ac.try_find_overlapping(input.clone(), &mut state).is_ok() {
                let Some(m) = state.get_match() else { break };
                hit(t, m.pattern().as_usize(), m.start(), m.end());
            }
        }
        if let Some(t) = &g.tail {
            let w = len.min(t.max_len);
            let mut rev = [0u8; TAIL_MAX];
            for (r, &b) in rev.iter_mut().zip(s[len - w..].iter().rev()) {
                *r = b;
            }
            let mut state = OverlappingState::start();
            let input = Input::new(&rev[..w]).anchored(Anchored::Yes);
            while t.ac.try_find_overlapping(input.clone(), &mut state).is_ok() {
                let Some(m) = state.get_match() else { break };
                // Reversed: the literal ends where the value does.
                hit(t, m.pattern().as_usize(), len - m.end(), len);
            }
        }
    });
}
