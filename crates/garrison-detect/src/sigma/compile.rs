//! YAML → compiled rules.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use yaml_serde::{Mapping, Value as Yaml};

use super::condition;
use super::logsource::{self, LogSource};
use super::pattern::{self, Cmp, Pat, RefKind, StrPat, Tok};
use super::{
    Compiled, Detection, FieldRef, Fx, Item, Level, LitKind, Lits, LoadError, MAX_SLOTS, NO_BIT,
    RuleMeta, SigmaRules, Test,
};

/// The largest rule file accepted.
pub(crate) const MAX_RULE_BYTES: usize = 1 << 20;
/// The most documents one file may hold.
const MAX_DOCUMENTS: usize = 256;
/// The most search identifiers, items and values one rule may hold.
const MAX_DETECTIONS: usize = 256;
const MAX_VALUES: usize = 65_536;
/// windash turns each dash into five characters; at most this many
/// variants of one value.
const MAX_WINDASH_VARIANTS: usize = 625;

pub(crate) fn compile_all<I, O, Y>(rules: I) -> (SigmaRules, Vec<LoadError>)
where
    I: IntoIterator<Item = (O, Y)>,
    O: Into<String>,
    Y: AsRef<str>,
{
    let mut set = SigmaRules::default();
    let mut errors = Vec::new();
    let mut ids: HashMap<Arc<str>, String> = HashMap::new();
    for (origin, yaml) in rules {
        let origin = origin.into();
        for doc in documents(&origin, yaml.as_ref(), &mut errors) {
            let label = rule_label(&doc);
            let fail = |reason: String| LoadError {
                origin: origin.clone(),
                rule: label.clone(),
                reason,
            };
            let (meta, routes_or_why, compiled) = match compile_rule(&origin, &doc, &mut set.slots)
            {
                Ok(x) => x,
                Err(reason) => {
                    errors.push(fail(reason));
                    continue;
                }
            };
            if let Some(first) = ids.get(&meta.id) {
                errors.push(fail(format!("duplicate id: already loaded from {first}")));
                continue;
            }
            ids.insert(Arc::clone(&meta.id), origin.clone());
            let index = set.metas.len();
            let Ok(i32) = u32::try_from(index) else {
                errors.push(fail("too many rules".to_owned()));
                continue;
            };
            match routes_or_why {
                Ok(routes) => {
                    for r in &routes {
                        set.add_route(i32, r);
                    }
                }
                Err(why) => set.unrouted.push((index, why)),
            }
            set.metas.push(meta);
            set.compiled.push(compiled);
        }
    }
    set.finish();
    (set, errors)
}

fn rule_label(doc: &Yaml) -> Option<String> {
    let m = doc.as_mapping()?;
    ["id", "title"]
        .iter()
        .find_map(|k| m.get(*k).and_then(Yaml::as_str).map(str::to_owned))
}

/// The documents of one file, with `action: global/reset/repeat` applied.
fn documents(origin: &str, text: &str, errors: &mut Vec<LoadError>) -> Vec<Yaml> {
    let err = |reason: String| LoadError {
        origin: origin.to_owned(),
        rule: None,
        reason,
    };
    if text.len() > MAX_RULE_BYTES {
        errors.push(err(format!(
            "file larger than {} KiB",
            MAX_RULE_BYTES / 1024
        )));
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut global: Option<Yaml> = None;
    let mut previous: Option<Yaml> = None;
    for (n, doc) in yaml_serde::Deserializer::from_str(text).enumerate() {
        if n >= MAX_DOCUMENTS {
            errors.push(err(format!("more than {MAX_DOCUMENTS} YAML documents")));
            break;
        }
        let value = match <Yaml as serde::Deserialize>::deserialize(doc) {
            Ok(v) => v,
            Err(e) => {
                errors.push(err(format!("invalid YAML: {e}")));
                // The stream cannot be resumed after a syntax error.
                break;
            }
        };
        if value.is_null() {
            continue;
        }
        let action = value
            .get("action")
            .and_then(Yaml::as_str)
            .map(str::to_owned);
        match action.as_deref() {
            Some("global") => {
                global = Some(without_action(value));
            }
            Some("reset") => global = None,
            Some("repeat") => {
                let Some(prev) = previous.clone() else {
                    errors.push(err("`action: repeat` without a previous rule".to_owned()));
                    continue;
                };
                let merged = merge(prev, without_action(value));
                previous = Some(merged.clone());
                out.push(merged);
            }
            _ => {
                let doc = match &global {
                    Some(g) => merge(g.clone(), value),
                    None => value,
                };
                previous = Some(doc.clone());
                out.push(doc);
            }
        }
    }
    out
}

fn without_action(mut v: Yaml) -> Yaml {
    if let Some(m) = v.as_mapping_mut() {
        m.remove("action");
    }
    v
}

/// Deep merge: maps merge key by key, anything else is replaced.
fn merge(base: Yaml, over: Yaml) -> Yaml {
    match (base, over) {
        (Yaml::Mapping(mut b), Yaml::Mapping(o)) => {
            for (k, v) in o {
                let merged = match b.remove(&k) {
                    Some(old) => merge(old, v),
                    None => v,
                };
                b.insert(k, merged);
            }
            Yaml::Mapping(b)
        }
        (_, o) => o,
    }
}

type Slots = HashMap<Box<str>, u16, Fx>;

/// A compiled rule: metadata, routes (or why it has none), matcher.
type RuleParts = (RuleMeta, Result<Vec<logsource::Route>, String>, Compiled);

fn compile_rule(origin: &str, doc: &Yaml, slots: &mut Slots) -> Result<RuleParts, String> {
    let m = doc
        .as_mapping()
        .ok_or("the document is not a YAML mapping")?;
    if m.contains_key("correlation") {
        return Err("correlation rules are not supported (Garrison's threshold and sequence rules cover them)".to_owned());
    }
    if m.contains_key("filter") && !m.contains_key("detection") {
        return Err(
            "Sigma filters (meta-rules) are not supported; use per-tenant exceptions".to_owned(),
        );
    }
    let title = text(m, "title").ok_or("no title")?;
    let id: Arc<str> = text(m, "id")
        .ok_or("no id: Garrison enables, disables and reports rules by id")?
        .into();
    let level = match text(m, "level") {
        None => Level::Medium,
        Some(l) => Level::parse(&l).ok_or_else(|| format!("unknown level {l:?}"))?,
    };
    let ls = m
        .get("logsource")
        .and_then(Yaml::as_mapping)
        .ok_or("no logsource")?;
    let lower = |k: &str| text(ls, k).map(|s| s.to_ascii_lowercase());
    let logsource = LogSource {
        product: lower("product"),
        category: lower("category"),
        service: lower("service"),
    };
    let detection = m
        .get("detection")
        .and_then(Yaml::as_mapping)
        .ok_or("no detection")?;
    let compiled = compile_detection(detection, &logsource, slots)?;
    let routes = logsource::routes(&logsource);
    let meta = RuleMeta {
        id,
        title,
        origin: origin.to_owned(),
        level,
        status: text(m, "status"),
        description: text(m, "description"),
        author: text(m, "author"),
        tags: texts(m, "tags"),
        logsource,
        falsepositives: texts(m, "falsepositives"),
        references: texts(m, "references"),
    };
    Ok((meta, routes, compiled))
}

fn text(m: &Mapping, key: &str) -> Option<String> {
    match m.get(key)? {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn texts(m: &Mapping, key: &str) -> Vec<String> {
    match m.get(key) {
        Some(Yaml::Sequence(items)) => items
            .iter()
            .filter_map(|v| match v {
                Yaml::String(s) => Some(s.clone()),
                Yaml::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        Some(Yaml::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn compile_detection(
    detection: &Mapping,
    ls: &LogSource,
    slots: &mut Slots,
) -> Result<Compiled, String> {
    let mut names = Vec::new();
    let mut dets = Vec::new();
    let mut conditions = Vec::new();
    for (k, v) in detection {
        let name = k.as_str().ok_or("a detection key is not text")?;
        match name {
            "condition" => match v {
                Yaml::String(s) => conditions.push(s.clone()),
                Yaml::Sequence(items) => {
                    for c in items {
                        conditions.push(
                            c.as_str()
                                .ok_or("a condition in the list is not text")?
                                .to_owned(),
                        );
                    }
                }
                _ => return Err("the condition is not text".to_owned()),
            },
            "timeframe" => {
                return Err(
                    "`timeframe` (Sigma 1.0 aggregation) is not supported; use a correlation rule"
                        .to_owned(),
                );
            }
            _ => {
                if dets.len() >= MAX_DETECTIONS {
                    return Err(format!("more than {MAX_DETECTIONS} search identifiers"));
                }
                let d =
                    compile_search(v, ls, slots).map_err(|e| format!("detection {name:?}: {e}"))?;
                names.push(name.to_owned());
                dets.push(d);
            }
        }
    }
    if conditions.is_empty() {
        return Err("the detection has no condition".to_owned());
    }
    let mut parsed = Vec::new();
    for c in &conditions {
        parsed.push(condition::parse(c, &names).map_err(|e| format!("condition {c:?}: {e}"))?);
    }
    let condition = if parsed.len() == 1 {
        parsed.pop().unwrap_or(super::Cond::Const(false))
    } else {
        super::Cond::Or(parsed)
    };
    let prefilter = super::prefilter::required(&condition, &dets);
    Ok(Compiled {
        detections: dets,
        condition,
        prefilter,
    })
}

fn compile_search(v: &Yaml, ls: &LogSource, slots: &mut Slots) -> Result<Detection, String> {
    match v {
        // `'|all': [...]`: field-less values with modifiers.
        Yaml::Mapping(m)
            if m.len() == 1
                && m.keys()
                    .next()
                    .and_then(Yaml::as_str)
                    .is_some_and(|k| k.starts_with('|')) =>
        {
            let (k, v) = m.iter().next().ok_or("empty map")?;
            let key = k.as_str().unwrap_or_default();
            let mut mods: Vec<&str> = key.split('|').filter(|s| !s.is_empty()).collect();
            if !mods.contains(&"contains") {
                mods.push("contains");
            }
            let values = match v {
                Yaml::Sequence(items) => items.clone(),
                other => vec![other.clone()],
            };
            let (any_contains, pats, all, _, _) = compile_values(&mods, &values, ls, slots)?;
            Ok(Detection::Keywords {
                any_contains,
                pats,
                all,
            })
        }
        Yaml::Mapping(m) => Ok(Detection::Maps(vec![compile_map(m, ls, slots)?])),
        Yaml::Sequence(items) if items.iter().all(|i| i.is_mapping()) && !items.is_empty() => {
            let mut maps = Vec::new();
            for i in items {
                if let Yaml::Mapping(m) = i {
                    maps.push(compile_map(m, ls, slots)?);
                }
            }
            Ok(Detection::Maps(maps))
        }
        Yaml::Sequence(items) => {
            if items.iter().any(|i| i.is_mapping() || i.is_sequence()) {
                return Err("a list mixes maps with plain values".to_owned());
            }
            // Keywords are searched in the text: substrings, as every
            // Sigma backend treats them.
            let (any_contains, pats, all, _, _) = compile_values(&["contains"], items, ls, slots)?;
            Ok(Detection::Keywords {
                any_contains,
                pats,
                all,
            })
        }
        Yaml::String(_) | Yaml::Number(_) | Yaml::Bool(_) => {
            let (any_contains, pats, all, _, _) =
                compile_values(&["contains"], std::slice::from_ref(v), ls, slots)?;
            Ok(Detection::Keywords {
                any_contains,
                pats,
                all,
            })
        }
        _ => {
            Err("a search identifier must be a map, a list of maps or a list of values".to_owned())
        }
    }
}

fn compile_map(m: &Mapping, ls: &LogSource, slots: &mut Slots) -> Result<Vec<Item>, String> {
    let mut items = Vec::new();
    for (k, v) in m {
        let key = k.as_str().ok_or("a field name is not text")?;
        let mut parts = key.split('|');
        let field = parts.next().unwrap_or_default();
        let mods: Vec<&str> = parts.collect();
        if field.is_empty() {
            // `|all: [...]` etc.: field-less values inside a map.
            return Err(format!(
                "field-less key {key:?} inside a map is not supported"
            ));
        }
        let fref = field_ref(ls, field, slots)?;
        let values: Vec<Yaml> = match v {
            Yaml::Sequence(items) => items.clone(),
            Yaml::Mapping(_) => return Err(format!("{key}: a value is a map")),
            other => vec![other.clone()],
        };
        if mods.contains(&"exists") {
            let [Yaml::Bool(b)] = values.as_slice() else {
                return Err(format!("{key}: `exists` takes true or false"));
            };
            if mods.len() > 1 {
                return Err(format!("{key}: `exists` combined with other modifiers"));
            }
            items.push(Item {
                field: fref,
                test: Test::Exists(*b),
                needles: None,
                lits: None,
            });
            continue;
        }
        let (any_contains, pats, all, needles, atoms) =
            compile_values(&mods, &values, ls, slots).map_err(|e| format!("{key}: {e}"))?;
        items.push(Item {
            field: fref,
            test: Test::Values {
                any_contains,
                pats,
                all,
            },
            needles,
            lits: atoms.map(|atoms| Lits {
                atoms,
                all,
                bit: NO_BIT,
            }),
        });
    }
    Ok(items)
}

fn field_ref(ls: &LogSource, field: &str, slots: &mut Slots) -> Result<FieldRef, String> {
    let mut ids = Vec::new();
    for name in logsource::field_names(ls, field) {
        let next = slots.len();
        let id = match slots.get(name.as_str()) {
            Some(&id) => id,
            None => {
                if next >= MAX_SLOTS {
                    return Err(format!(
                        "the rule set names more than {MAX_SLOTS} distinct event fields"
                    ));
                }
                let id = u16::try_from(next).map_err(|_| "too many fields".to_owned())?;
                slots.insert(name.into(), id);
                id
            }
        };
        ids.push(id);
    }
    Ok(FieldRef(ids.into()))
}

/// What the modifiers of one item ask for.
#[derive(Default)]
struct Mods {
    contains: bool,
    startswith: bool,
    endswith: bool,
    all: bool,
    cased: bool,
    re: bool,
    re_flags: String,
    cidr: bool,
    cmp: Option<Cmp>,
    fieldref: bool,
    /// Value transformations in order: windash, base64, base64offset,
    /// utf16 encodings.
    transforms: Vec<&'static str>,
}

fn parse_mods(mods: &[&str]) -> Result<Mods, String> {
    let mut m = Mods::default();
    for &raw in mods {
        match raw {
            "contains" => m.contains = true,
            "startswith" => m.startswith = true,
            "endswith" => m.endswith = true,
            "all" => m.all = true,
            "cased" => m.cased = true,
            "re" => m.re = true,
            "i" | "ignorecase" => m.re_flags.push('i'),
            "m" | "multiline" => m.re_flags.push('m'),
            "s" | "dotall" => m.re_flags.push('s'),
            "cidr" => m.cidr = true,
            "gt" => m.cmp = Some(Cmp::Gt),
            "gte" => m.cmp = Some(Cmp::Gte),
            "lt" => m.cmp = Some(Cmp::Lt),
            "lte" => m.cmp = Some(Cmp::Lte),
            "fieldref" => m.fieldref = true,
            "windash" => m.transforms.push("windash"),
            "base64" => m.transforms.push("base64"),
            "base64offset" => m.transforms.push("base64offset"),
            "wide" | "utf16le" => m.transforms.push("utf16le"),
            "utf16be" => m.transforms.push("utf16be"),
            "utf16" => m.transforms.push("utf16"),
            "expand" => {
                return Err(
                    "the `expand` modifier needs placeholder values Garrison does not configure yet"
                        .to_owned(),
                );
            }
            "neq" => return Err("the `neq` modifier is not supported".to_owned()),
            "minute" | "hour" | "day" | "week" | "month" | "year" => {
                return Err(format!("the time-part modifier `{raw}` is not supported"));
            }
            other => return Err(format!("unknown modifier `{other}`")),
        }
    }
    if m.re && (m.contains || m.startswith || m.endswith || !m.transforms.is_empty()) {
        return Err("`re` combined with string modifiers".to_owned());
    }
    if !m.re && !m.re_flags.is_empty() {
        return Err("regex flags (i, m, s) without `re`".to_owned());
    }
    if u8::from(m.contains) + u8::from(m.startswith) + u8::from(m.endswith) > 1 {
        return Err("more than one of contains / startswith / endswith".to_owned());
    }
    Ok(m)
}

/// Compiles an item's values; "any" tests gather their plain substring
/// needles into one automaton.
fn compile_values(
    mods: &[&str],
    values: &[Yaml],
    ls: &LogSource,
    slots: &mut Slots,
) -> Result<ValuesOut, String> {
    if values.len() > MAX_VALUES {
        return Err(format!("more than {MAX_VALUES} values"));
    }
    let m = parse_mods(mods)?;
    let mut pats = Vec::new();
    let mut needles: Vec<String> = Vec::new();
    // Prefilter: for "any", every value must yield a literal the event
    // value contains when it matches; for "all", one such literal will do.
    let mut required: Option<Vec<(String, LitKind)>> = Some(Vec::new());
    let mut one_required: Option<(String, LitKind)> = None;
    // The exact literal form: every value a literal at a known position,
    // compared with ASCII case folding.
    let mut atoms: Option<Vec<(String, LitKind)>> = (!m.cased).then(Vec::new);
    for v in values {
        if v.is_null() {
            pats.push(Pat::Null);
            required = None;
            atoms = None;
            continue;
        }
        for p in compile_value(&m, v, ls, slots)? {
            let atom = match &p {
                Compiled1::Needle(n) => Some((n.clone(), LitKind::Contains)),
                Compiled1::Pat(Pat::Str(StrPat::Eq(n, false))) => {
                    Some((n.to_string(), LitKind::Eq))
                }
                Compiled1::Pat(Pat::Str(StrPat::Prefix(n, false))) => {
                    Some((n.to_string(), LitKind::Prefix))
                }
                Compiled1::Pat(Pat::Str(StrPat::Suffix(n, false))) => {
                    Some((n.to_string(), LitKind::Suffix))
                }
                Compiled1::Pat(_) | Compiled1::Wild(..) => None,
            }
            .filter(|(n, _)| !n.is_empty() && pattern::ascii_foldable(n));
            match (atoms.as_mut(), atom) {
                (Some(a), Some(atom)) => a.push(atom),
                _ => atoms = None,
            }
            let lit = match &p {
                Compiled1::Needle(n) => Some((n.clone(), LitKind::Contains)),
                Compiled1::Pat(Pat::Str(StrPat::Eq(n, _))) => Some((n.to_string(), LitKind::Eq)),
                Compiled1::Pat(Pat::Str(StrPat::Prefix(n, _))) => {
                    Some((n.to_string(), LitKind::Prefix))
                }
                Compiled1::Pat(Pat::Str(StrPat::Suffix(n, _))) => {
                    Some((n.to_string(), LitKind::Suffix))
                }
                Compiled1::Wild(_, hint) => hint.clone().map(|h| (h, LitKind::Contains)),
                Compiled1::Pat(_) => None,
            }
            .filter(|(n, _)| !n.is_empty() && pattern::ascii_foldable(n));
            match lit {
                Some(n) => {
                    if let Some(r) = required.as_mut() {
                        r.push(n.clone());
                    }
                    one_required.get_or_insert(n);
                }
                None => required = None,
            }
            match p {
                Compiled1::Needle(n) if !m.all => needles.push(n),
                Compiled1::Needle(n) => pats.push(Pat::Str(StrPat::Contains(
                    pattern::contains_automaton(&[n.as_str()], !m.cased)?,
                ))),
                Compiled1::Pat(p) | Compiled1::Wild(p, _) => pats.push(p),
            }
        }
    }
    let required = if m.all {
        one_required.map(|n| vec![n])
    } else {
        required.filter(|r| !r.is_empty())
    };
    let any_contains = if needles.is_empty() {
        None
    } else {
        let refs: Vec<&str> = needles.iter().map(String::as_str).collect();
        Some(pattern::AnyContains::new(&refs, m.cased)?)
    };
    if pats.is_empty() && any_contains.is_none() {
        return Err("no values".to_owned());
    }
    let atoms = atoms.filter(|a| !a.is_empty());
    Ok((any_contains, pats, m.all, required, atoms))
}

/// An item's compiled values: the shared substring automaton, the other
/// tests, whether all must match, the literals one of which a matching
/// value contains (the prefilter's needles), when known, and the item's
/// exact literal form, when it has one.
type ValuesOut = (
    Option<pattern::AnyContains>,
    Vec<Pat>,
    bool,
    Option<Vec<(String, LitKind)>>,
    Option<Vec<(String, LitKind)>>,
);

enum Compiled1 {
    /// A plain substring (ASCII, or compared with case) for the shared
    /// automaton.
    Needle(String),
    Pat(Pat),
    /// A wildcard pattern (a regex), with a literal every match contains
    /// when one is known.
    Wild(Pat, Option<String>),
}

fn compile_value(
    m: &Mods,
    v: &Yaml,
    ls: &LogSource,
    slots: &mut Slots,
) -> Result<Vec<Compiled1>, String> {
    let raw = match v {
        Yaml::String(s) => s.clone(),
        Yaml::Number(n) => n.to_string(),
        Yaml::Bool(b) => b.to_string(),
        _ => return Err("a value is not a string, number, boolean or null".to_owned()),
    };
    if m.re {
        let flags = if m.re_flags.is_empty() {
            String::new()
        } else {
            format!("(?{})", m.re_flags)
        };
        let re = pattern::build_regex(&format!("{flags}{raw}"))?;
        return Ok(vec![Compiled1::Pat(Pat::Str(StrPat::Regex(re)))]);
    }
    if m.cidr {
        let net: ipnet::IpNet = raw
            .trim()
            .parse()
            .or_else(|_| {
                raw.trim()
                    .parse::<std::net::IpAddr>()
                    .map(ipnet::IpNet::from)
            })
            .map_err(|_| format!("{raw:?} is not a CIDR network"))?;
        return Ok(vec![Compiled1::Pat(Pat::Cidr(net))]);
    }
    if let Some(op) = m.cmp {
        let n: f64 = raw
            .trim()
            .parse()
            .map_err(|_| format!("{raw:?} is not a number"))?;
        return Ok(vec![Compiled1::Pat(Pat::Cmp(op, n))]);
    }
    if m.fieldref {
        let kind = if m.contains {
            RefKind::Contains
        } else if m.startswith {
            RefKind::Prefix
        } else if m.endswith {
            RefKind::Suffix
        } else {
            RefKind::Eq
        };
        return Ok(vec![Compiled1::Pat(Pat::FieldRef(
            field_ref(ls, &raw, slots)?,
            kind,
        ))]);
    }
    if let Yaml::Number(n) = v
        && let Some(i) = n.as_i64()
        && !m.contains
        && !m.startswith
        && !m.endswith
        && m.transforms.is_empty()
    {
        return Ok(vec![Compiled1::Pat(Pat::Num(i, n.to_string().into()))]);
    }
    // Strings: transformations, then wildcards and position.
    let variants = transform(&raw, &m.transforms)?;
    let mut out = Vec::new();
    for toks in variants {
        let mut toks = toks;
        if (m.contains || m.endswith) && toks.first() != Some(&Tok::Star) {
            toks.insert(0, Tok::Star);
        }
        if (m.contains || m.startswith) && toks.last() != Some(&Tok::Star) {
            toks.push(Tok::Star);
        }
        if let [Tok::Star, Tok::Lit(s), Tok::Star] = toks.as_slice()
            && (m.cased || pattern::ascii_foldable(s))
        {
            out.push(Compiled1::Needle(s.clone()));
            continue;
        }
        let pat = StrPat::from_tokens(&toks, m.cased)?;
        if matches!(pat, StrPat::Regex(_)) {
            out.push(Compiled1::Wild(Pat::Str(pat), required_literal(&toks)));
        } else {
            out.push(Compiled1::Pat(Pat::Str(pat)));
        }
    }
    Ok(out)
}

/// The longest literal of a wildcard pattern that ASCII case folding
/// finds wherever the pattern matches: the regex folds case by Unicode,
/// where `k` and `s` also match `\u{212A}` (Kelvin) and `\u{17F}` (long
/// s), so literals with those letters are passed over.
fn required_literal(toks: &[Tok]) -> Option<String> {
    toks.iter()
        .filter_map(|t| match t {
            Tok::Lit(s) => Some(s),
            _ => None,
        })
        .filter(|s| {
            pattern::ascii_foldable(s) && !s.bytes().any(|b| matches!(b, b'k' | b'K' | b's' | b'S'))
        })
        .max_by_key(|s| s.len())
        .cloned()
}

/// Applies the value transformations in order; each variant is a token
/// list (literals and wildcards).
fn transform(raw: &str, transforms: &[&str]) -> Result<Vec<Vec<Tok>>, String> {
    enum V {
        Text(Vec<Tok>),
        Bytes(Vec<u8>),
    }
    let mut vs = vec![V::Text(pattern::tokenize(raw))];
    for t in transforms {
        let mut next = Vec::new();
        for v in vs {
            match (*t, v) {
                ("windash", V::Text(toks)) => {
                    for variant in windash(&toks)? {
                        next.push(V::Text(variant));
                    }
                }
                ("utf16le" | "utf16be" | "utf16", V::Text(toks)) => {
                    let s = plain(&toks, t)?;
                    let bytes = match *t {
                        "utf16le" => s.encode_utf16().flat_map(u16::to_le_bytes).collect(),
                        "utf16be" => s.encode_utf16().flat_map(u16::to_be_bytes).collect(),
                        _ => [0xFF, 0xFE]
                            .into_iter()
                            .chain(s.encode_utf16().flat_map(u16::to_le_bytes))
                            .collect(),
                    };
                    next.push(V::Bytes(bytes));
                }
                ("base64", v) => {
                    let bytes = match v {
                        V::Text(toks) => plain(&toks, "base64")?.into_bytes(),
                        V::Bytes(b) => b,
                    };
                    next.push(V::Text(vec![Tok::Lit(B64.encode(bytes))]));
                }
                ("base64offset", v) => {
                    let bytes = match v {
                        V::Text(toks) => plain(&toks, "base64offset")?.into_bytes(),
                        V::Bytes(b) => b,
                    };
                    for s in base64_offsets(&bytes) {
                        next.push(V::Text(vec![Tok::Lit(s)]));
                    }
                }
                (t, _) => {
                    return Err(format!("modifier `{t}` cannot follow a UTF-16 encoding"));
                }
            }
        }
        vs = next;
    }
    vs.into_iter()
        .map(|v| match v {
            V::Text(t) => Ok(t),
            V::Bytes(_) => {
                Err("a UTF-16 encoding must be followed by base64 or base64offset".to_owned())
            }
        })
        .collect()
}

fn plain(toks: &[Tok], modifier: &str) -> Result<String, String> {
    let mut s = String::new();
    for t in toks {
        match t {
            Tok::Lit(l) => s.push_str(l),
            _ => return Err(format!("`{modifier}` of a value with wildcards")),
        }
    }
    Ok(s)
}

/// The three base64 encodings of `bytes` at offsets 0, 1, 2 of a longer
/// string, without the characters that depend on the neighbours (as
/// pySigma).
pub(crate) fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    let start = [0usize, 2, 3];
    let mut out = Vec::new();
    for i in 0..3 {
        let mut padded = vec![b' '; i];
        padded.extend_from_slice(bytes);
        let enc = B64.encode(&padded);
        let end_cut = match (bytes.len() + i) % 3 {
            0 => 0,
            1 => 3,
            _ => 2,
        };
        let end = enc.len().saturating_sub(end_cut);
        if start[i] < end {
            out.push(enc[start[i]..end].to_owned());
        }
    }
    out
}

/// windash: every `-` or `/` that starts a word (after a non-word
/// character or at the start) may be any of `-`, `/`, `–`, `—`, `―`.
fn windash(toks: &[Tok]) -> Result<Vec<Vec<Tok>>, String> {
    const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];
    let mut out: Vec<Vec<Tok>> = vec![Vec::new()];
    let mut prev_word = false;
    for t in toks {
        match t {
            Tok::Lit(s) => {
                // Split the literal at dash positions; expand each.
                let mut pieces: Vec<Vec<String>> = vec![vec![String::new()]];
                for (i, c) in s.char_indices() {
                    let next_word = s[i + c.len_utf8()..]
                        .chars()
                        .next()
                        .is_some_and(|n| n.is_alphanumeric() || n == '_');
                    if matches!(c, '-' | '/') && !prev_word && next_word {
                        pieces.push(DASHES.iter().map(|d| d.to_string()).collect());
                        pieces.push(vec![String::new()]);
                    } else if let Some(last) = pieces.last_mut().and_then(|p| p.first_mut()) {
                        last.push(c);
                    }
                    prev_word = c.is_alphanumeric() || c == '_';
                }
                let mut expanded: Vec<String> = vec![String::new()];
                for alts in &pieces {
                    let mut grown = Vec::new();
                    for e in &expanded {
                        for a in alts {
                            grown.push(format!("{e}{a}"));
                        }
                    }
                    if grown.len() > MAX_WINDASH_VARIANTS {
                        return Err("windash value has too many dashes".to_owned());
                    }
                    expanded = grown;
                }
                let mut grown = Vec::new();
                for o in &out {
                    for e in &expanded {
                        let mut v = o.clone();
                        v.push(Tok::Lit(e.clone()));
                        grown.push(v);
                    }
                }
                if grown.len() > MAX_WINDASH_VARIANTS {
                    return Err("windash value has too many dashes".to_owned());
                }
                out = grown;
            }
            other => {
                prev_word = false;
                for o in &mut out {
                    o.push(other.clone());
                }
            }
        }
    }
    // Merge adjacent literals.
    Ok(out
        .into_iter()
        .map(|v| {
            let mut merged: Vec<Tok> = Vec::new();
            for t in v {
                match (merged.last_mut(), t) {
                    (Some(Tok::Lit(a)), Tok::Lit(b)) => a.push_str(&b),
                    (_, Tok::Lit(b)) if b.is_empty() => {}
                    (_, t) => merged.push(t),
                }
            }
            merged
        })
        .collect())
}
