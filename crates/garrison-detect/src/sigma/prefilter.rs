//! The prefilter: most rules can only match when one of a few literals
//! occurs in one field (`Image|endswith: '\cmd.exe'` needs `\cmd.exe` in
//! `Image`). Each bucket (the rules of one logsource route) runs one
//! Aho-Corasick automaton per field over the event's value, finding every
//! literal of every rule at once, and evaluates only the rules whose
//! literal occurred, plus the rules no literal describes.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use super::pattern::with_text;
use super::{Compiled, Cond, Detection, Eval, FieldRef};
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
}

/// One field's literals across a bucket's rules.
#[derive(Debug)]
struct Group {
    field: FieldRef,
    ac: AhoCorasick,
    /// Per literal: (position in `Bucket::filtered`, clause bit) of the
    /// rules needing it.
    rules_of: Vec<Vec<(u16, u8)>>,
}

/// Clause marks fit a stack array up to this many filtered rules per
/// bucket; beyond, rules are evaluated without the prefilter.
const MAX_FILTERED: usize = 4096;

impl Bucket {
    pub(crate) fn finish(&mut self, compiled: &[Compiled]) {
        type Lits = (FieldRef, HashMap<String, usize>, Vec<Vec<(u16, u8)>>);
        let mut by_field: Vec<Lits> = Vec::new();
        for &r in &self.rules {
            let pre = compiled[r as usize].prefilter.as_ref();
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
                let g = match by_field.iter().position(|(f, _, _)| f == field) {
                    Some(g) => g,
                    None => {
                        by_field.push((field.clone(), HashMap::new(), Vec::new()));
                        by_field.len() - 1
                    }
                };
                let (_, ids, rules_of) = &mut by_field[g];
                let id = *ids.entry(needle.clone()).or_insert_with(|| {
                    rules_of.push(Vec::new());
                    rules_of.len() - 1
                });
                if !rules_of[id].contains(&(pos, bit)) {
                    rules_of[id].push((pos, bit));
                }
            }
        }
        for (field, ids, rules_of) in by_field {
            let mut needles: Vec<(usize, String)> = ids.into_iter().map(|(n, i)| (i, n)).collect();
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
                    field,
                    ac,
                    rules_of,
                }),
                Err(_) => {
                    // Too large an automaton: evaluate those rules always.
                    for rs in rules_of {
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

    /// (rules evaluated for every event, rules behind the prefilter).
    pub(crate) fn sizes(&self) -> (usize, usize) {
        (self.always.len(), self.filtered.len())
    }

    /// Calls `f` with every rule worth evaluating for the event.
    pub(crate) fn candidates(&self, ev: &Eval<'_>, mut f: impl FnMut(u32)) {
        for &r in &self.always {
            f(r);
        }
        if self.filtered.is_empty() {
            return;
        }
        if self.filtered.len() <= 256 {
            self.filtered_candidates(ev, &mut [0u8; 256], f);
        } else {
            self.filtered_candidates(ev, &mut [0u8; MAX_FILTERED], f);
        }
    }

    fn filtered_candidates(&self, ev: &Eval<'_>, marks: &mut [u8], mut f: impl FnMut(u32)) {
        let marks = &mut marks[..self.filtered.len()];
        let mut any = false;
        for g in &self.groups {
            let Some(v) = ev.get(&g.field) else { continue };
            scan(g, v, marks, &mut any);
        }
        if !any {
            return;
        }
        for (i, (&m, &full)) in marks.iter().zip(&self.full).enumerate() {
            if m == full && full != 0 {
                f(self.filtered[i]);
            }
        }
    }
}

fn scan(g: &Group, v: &Value, marks: &mut [u8], any: &mut bool) {
    if let Value::List(items) = v {
        for i in items {
            scan(g, i, marks, any);
        }
        return;
    }
    with_text(v, |s| {
        for m in g.ac.find_overlapping_iter(s) {
            for &(p, bit) in &g.rules_of[m.pattern().as_usize()] {
                marks[usize::from(p)] |= bit;
                *any = true;
            }
        }
    });
}
