//! The prefilter: most rules can only match when one of a few literals
//! occurs in one field (`Image|endswith: '\cmd.exe'` needs `\cmd.exe` in
//! `Image`). Each bucket (the rules of one logsource route) runs one
//! Aho-Corasick automaton per field over the event's value, finding every
//! literal of every rule at once, and evaluates only the rules whose
//! literal occurred, plus the rules no literal describes.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use super::pattern::with_text;
use super::{Compiled, Cond, Detection, Eval, FieldRef, LitKind, NO_BIT};
use garrison_core::event::Value;

/// A literal set is only worth it while it is this small; a clause
/// needing more is dropped.
const MAX_NEEDLES_PER_CLAUSE: usize = 4096;
/// The most clauses kept per rule (all must hold).
pub(crate) const MAX_CLAUSES: usize = 8;

/// One clause: (field, literal) pairs, one of which must occur.
pub(crate) type Clause = Vec<(FieldRef, String)>;

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

/// All clauses of every part that has some (the smallest ones first).
fn and(parts: impl Iterator<Item = Option<Vec<Clause>>>) -> Option<Vec<Clause>> {
    let mut out: Vec<Clause> = parts.flatten().flatten().collect();
    if out.is_empty() {
        return None;
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
        let smallest = p?.into_iter().min_by_key(Vec::len)?;
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
                            .map(|n| (item.field.clone(), n.clone()))
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
/// and the literal items' atoms, found in one pass.
#[derive(Debug)]
struct Group {
    field: FieldRef,
    ac: AhoCorasick,
    /// Per literal: (position in `Bucket::filtered`, clause bit) of the
    /// rules needing it.
    rules_of: Vec<Vec<(u16, u8)>>,
    /// Per literal: the literal items' bits it sets, and where it must
    /// occur for that.
    atoms_of: Vec<Vec<(LitKind, u32)>>,
}

/// A group while building.
struct Lits {
    field: FieldRef,
    ids: HashMap<String, usize>,
    rules_of: Vec<Vec<(u16, u8)>>,
    atoms_of: Vec<Vec<(LitKind, u32)>>,
}

impl Lits {
    fn id(&mut self, needle: &str) -> usize {
        if let Some(&id) = self.ids.get(needle) {
            return id;
        }
        self.rules_of.push(Vec::new());
        self.atoms_of.push(Vec::new());
        self.ids.insert(needle.to_owned(), self.rules_of.len() - 1);
        self.rules_of.len() - 1
    }
}

fn group_of<'a>(by_field: &'a mut Vec<Lits>, field: &FieldRef) -> &'a mut Lits {
    let g = match by_field.iter().position(|l| &l.field == field) {
        Some(g) => g,
        None => {
            by_field.push(Lits {
                field: field.clone(),
                ids: HashMap::new(),
                rules_of: Vec::new(),
                atoms_of: Vec::new(),
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
                        let id = g.id(needle);
                        if !g.atoms_of[id].contains(&(*kind, bit)) {
                            g.atoms_of[id].push((*kind, bit));
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
            for (bit, (field, needle)) in pre
                .iter()
                .take(MAX_CLAUSES)
                .enumerate()
                .flat_map(|(c, cl)| cl.iter().map(move |x| (c, x)))
            {
                let bit = 1u8 << bit;
                let g = group_of(&mut by_field, field);
                let id = g.id(needle);
                if !g.rules_of[id].contains(&(pos, bit)) {
                    g.rules_of[id].push((pos, bit));
                }
            }
        }
        self.exact = true;
        for l in by_field {
            let mut needles: Vec<(usize, String)> =
                l.ids.into_iter().map(|(n, i)| (i, n)).collect();
            needles.sort_unstable();
            // A DFA when it fits (one table lookup per byte), else the
            // crate's choice.
            let mut b = AhoCorasick::builder();
            b.ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard);
            let built = b
                .clone()
                .kind(Some(AhoCorasickKind::DFA))
                .build(needles.iter().map(|(_, n)| n.as_str()))
                .or_else(|_| b.build(needles.iter().map(|(_, n)| n.as_str())));
            match built {
                Ok(ac) => self.groups.push(Group {
                    field: l.field,
                    ac,
                    rules_of: l.rules_of,
                    atoms_of: l.atoms_of,
                }),
                Err(_) => {
                    // Too large an automaton: evaluate those rules always,
                    // and every item of the bucket's rules in full.
                    self.exact = false;
                    for rs in l.rules_of {
                        for (p, _) in rs {
                            self.always.push(self.filtered[usize::from(p)]);
                            self.full[usize::from(p)] = 0;
                        }
                    }
                }
            }
        }
        self.always.sort_unstable();
        self.always.dedup();
        self.rules = Vec::new();
    }

    /// Evaluates every item in full (tests compare both ways).
    #[cfg(test)]
    pub(crate) fn set_exact(&mut self, exact: bool) {
        self.exact = exact;
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
        if self.filtered.len() <= 256 {
            self.scan_and_run(ev, bits, &mut [0u8; 256], f);
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
        let mut any = false;
        for g in &self.groups {
            let Some(v) = ev.get(&g.field) else { continue };
            scan(g, v, marks, bits, &mut any);
        }
        let ev = Eval {
            lits: self.exact.then_some(&*bits),
            ..*ev
        };
        for &r in &self.always {
            f(&ev, r);
        }
        if !any {
            return;
        }
        for (i, (&m, &full)) in marks.iter().zip(&self.full).enumerate() {
            if m == full && full != 0 {
                f(&ev, self.filtered[i]);
            }
        }
    }
}

fn scan(g: &Group, v: &Value, marks: &mut [u8], bits: &mut [u64], any: &mut bool) {
    if let Value::List(items) = v {
        for i in items {
            scan(g, i, marks, bits, any);
        }
        return;
    }
    with_text(v, |s| {
        for m in g.ac.find_overlapping_iter(s) {
            let id = m.pattern().as_usize();
            for &(p, bit) in &g.rules_of[id] {
                marks[usize::from(p)] |= bit;
                *any = true;
            }
            for &(kind, bit) in &g.atoms_of[id] {
                let hit = match kind {
                    LitKind::Contains => true,
                    LitKind::Prefix => m.start() == 0,
                    LitKind::Suffix => m.end() == s.len(),
                    LitKind::Eq => m.start() == 0 && m.end() == s.len(),
                };
                if hit {
                    bits[(bit / 64) as usize] |= 1 << (bit % 64);
                }
            }
        }
    });
}
