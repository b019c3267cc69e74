//! Detection in the ingest pipeline: the rule set (Sigma, threshold and
//! sequence rules, built-in and imported) with each tenant's settings, the
//! indicator index, and what an enriched event raises.
//!
//! Both are built off the hot path and swapped in one step: the pipeline
//! asks [`Detection::current`], which answers at once with the last build
//! and, at most every [`RECHECK`], checks in the background whether the
//! rules version or the indicator set moved (and rebuilds). Only the first
//! call waits for a build.
//!
//! Per event (`detect`): the sensor's own alert, every Sigma rule that
//! matches and is enabled for the tenant (and not excepted), every
//! indicator of the tenant or MSSP-wide found in the event (also recorded
//! as a sighting), and threshold and sequence rules counted per tenant in
//! memory (their counts restart with the process or a rule change).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use garrison_core::event::{Event, Fields, Value};
use garrison_core::indicator::{Indicator, Sighting};
use garrison_core::offense::{Detector, DetectorKind, NewAlert, Part, Weights};
use garrison_core::{IndicatorId, TenantId, Timestamp};
use garrison_detect::alerts::{alert, sensor_alert};
use garrison_detect::correlation::{self, Compiled, CorrelationState, Fired};
use garrison_detect::scoring::{sigma_level_severity, sigma_status_credibility};
use garrison_detect::sigma::{RuleMatch, SigmaRules};
use garrison_detect::{IndicatorHit, IndicatorIndex, IndicatorIndexBuilder};
use garrison_store::{Store, TenantRule};

/// How long the pipeline uses a rule set or indicator index before asking,
/// in the background, whether it changed.
pub const RECHECK: Duration = Duration::from_secs(2);

/// Indicators read from the store per call while building the index.
const INDICATOR_PAGE: u32 = 10_000;

/// The index is rebuilt at least this often (indicators expire).
const INDICATOR_MAX_AGE: Duration = Duration::from_secs(600);

/// Threshold and sequence rules shipped with Garrison (`rules/*.yml`).
pub const BUILTIN_RULES: &[(&str, &str)] = &[
    (
        "builtin/windows-bruteforce-then-logon.yml",
        include_str!("../../rules/windows-bruteforce-then-logon.yml"),
    ),
    (
        "builtin/windows-logon-failures.yml",
        include_str!("../../rules/windows-logon-failures.yml"),
    ),
    (
        "builtin/port-scan.yml",
        include_str!("../../rules/port-scan.yml"),
    ),
];

/// A rule file that did not load, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub origin: String,
    /// The rule's id or title, when the file got that far.
    pub rule: Option<String>,
    pub reason: String,
}

/// One tenant's settings: rules off, and exceptions per rule.
#[derive(Debug, Default)]
struct TenantSettings {
    disabled: HashSet<String>,
    exceptions: HashMap<String, Vec<BTreeMap<String, String>>>,
}

/// Every rule, compiled, with the tenants' settings.
#[derive(Debug)]
pub struct RuleSet {
    pub version: i64,
    pub sigma: SigmaRules,
    pub correlation: Vec<Compiled>,
    /// Where each correlation rule came from.
    pub correlation_origins: Vec<String>,
    pub errors: Vec<RuleError>,
    tenants: HashMap<TenantId, TenantSettings>,
    /// Tenants' own magnitude weights.
    weights: HashMap<TenantId, Weights>,
}

impl RuleSet {
    /// Compiles the stored rule files and the built-in ones.
    #[must_use]
    pub fn build(version: i64, files: &[(String, String)], settings: Vec<TenantRule>) -> Self {
        let mut errors = Vec::new();
        let mut sigma_files = Vec::new();
        let mut correlation = Vec::new();
        let mut correlation_origins = Vec::new();
        let builtin = BUILTIN_RULES
            .iter()
            .map(|(o, b)| ((*o).to_owned(), (*b).to_owned()));
        for (origin, body) in builtin.chain(files.iter().cloned()) {
            if correlation::looks_like_correlation(&body) {
                match correlation::from_yaml(&body) {
                    Ok(c)
                        if correlation
                            .iter()
                            .any(|x: &Compiled| x.rule.id == c.rule.id) =>
                    {
                        errors.push(RuleError {
                            origin,
                            rule: Some(c.rule.id),
                            reason: "a rule with this id is already loaded".to_owned(),
                        });
                    }
                    Ok(c) => {
                        correlation.push(c);
                        correlation_origins.push(origin);
                    }
                    Err(reason) => errors.push(RuleError {
                        origin,
                        rule: None,
                        reason,
                    }),
                }
            } else {
                sigma_files.push((origin, body));
            }
        }
        let (sigma, sigma_errors) = SigmaRules::compile(sigma_files);
        errors.extend(sigma_errors.into_iter().map(|e| RuleError {
            origin: e.origin,
            rule: e.rule,
            reason: e.reason,
        }));
        let mut tenants: HashMap<TenantId, TenantSettings> = HashMap::new();
        for s in settings {
            let t = tenants.entry(s.tenant_id).or_default();
            if !s.enabled {
                t.disabled.insert(s.rule_id.clone());
            }
            if !s.exceptions.is_empty() {
                t.exceptions.insert(s.rule_id, s.exceptions);
            }
        }
        Self {
            version,
            sigma,
            correlation,
            correlation_origins,
            errors,
            tenants,
            weights: HashMap::new(),
        }
    }

    /// The magnitude weights of the tenant's offenses.
    #[must_use]
    pub fn weights_for(&self, tenant: TenantId) -> Weights {
        self.weights.get(&tenant).copied().unwrap_or_default()
    }

    /// Whether the rule may fire on this tenant's event.
    fn allowed(&self, tenant: TenantId, rule_id: &str, fields: &Fields) -> bool {
        let Some(t) = self.tenants.get(&tenant) else {
            return true;
        };
        if t.disabled.contains(rule_id) {
            return false;
        }
        t.exceptions.get(rule_id).is_none_or(|list| {
            !list.iter().any(|ex| {
                ex.iter()
                    .all(|(name, want)| fields.get(name).is_some_and(|v| text_is(v, want)))
            })
        })
    }

    /// Rules in the set: (id, title, kind, level, origin).
    #[must_use]
    pub fn summary(&self) -> Vec<RuleSummary> {
        let mut out: Vec<RuleSummary> = self
            .sigma
            .rules()
            .map(|m| RuleSummary {
                id: m.id.to_string(),
                title: m.title.clone(),
                kind: "sigma",
                level: m.level.as_str().to_owned(),
                status: m.status.clone(),
                origin: m.origin.clone(),
            })
            .collect();
        out.extend(
            self.correlation
                .iter()
                .zip(&self.correlation_origins)
                .map(|(c, o)| RuleSummary {
                    id: c.rule.id.clone(),
                    title: c.rule.title.clone(),
                    kind: match c.rule.kind {
                        correlation::CorrelationKind::Threshold => "threshold",
                        correlation::CorrelationKind::Sequence => "sequence",
                    },
                    level: c.rule.level.clone(),
                    status: c.rule.status.clone(),
                    origin: o.clone(),
                }),
        );
        out
    }

    /// Runs one rule over `events` (newest first, as searches return them)
    /// for a test: (the rule id, how many matched, the first 100 ids).
    #[must_use]
    pub fn replay(
        &self,
        rule_id: &str,
        tenant: TenantId,
        mut events: Vec<Event>,
    ) -> (String, u64, Vec<garrison_core::EventId>) {
        events.reverse();
        let mut matched = 0_u64;
        let mut ids = Vec::new();
        let mut hit = |id| {
            matched += 1;
            if ids.len() < 100 {
                ids.push(id);
            }
        };
        if let Some(index) = self.sigma.index_of(rule_id) {
            let mut hits: Vec<RuleMatch> = Vec::new();
            for e in &events {
                hits.clear();
                self.sigma.matches(e, &mut hits);
                if hits.iter().any(|h| h.index == index)
                    && self.allowed_ignoring_switch(tenant, rule_id, &e.fields)
                {
                    hit(e.id);
                }
            }
        } else if let Some(i) = self.correlation.iter().position(|c| c.rule.id == rule_id) {
            let one = [self.correlation[i].clone()];
            let mut state = CorrelationState::default();
            let mut fired = Vec::new();
            for e in &events {
                fired.clear();
                state.observe(&one, e, &mut fired);
                if !fired.is_empty() && self.allowed_ignoring_switch(tenant, rule_id, &e.fields) {
                    hit(e.id);
                }
            }
        }
        (rule_id.to_owned(), matched, ids)
    }

    /// The tenant's exceptions, not its switch.
    fn allowed_ignoring_switch(&self, tenant: TenantId, rule_id: &str, fields: &Fields) -> bool {
        self.tenants
            .get(&tenant)
            .and_then(|t| t.exceptions.get(rule_id))
            .is_none_or(|list| {
                !list.iter().any(|ex| {
                    ex.iter()
                        .all(|(name, want)| fields.get(name).is_some_and(|v| text_is(v, want)))
                })
            })
    }

    /// Whether the set holds a rule with this id.
    #[must_use]
    pub fn has_rule(&self, id: &str) -> bool {
        self.sigma.index_of(id).is_some() || self.correlation.iter().any(|c| c.rule.id == id)
    }
}

/// A rule for lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSummary {
    pub id: String,
    pub title: String,
    pub kind: &'static str,
    pub level: String,
    pub status: Option<String>,
    pub origin: String,
}

fn text_is(v: &Value, want: &str) -> bool {
    match v {
        Value::Str(s) => s.eq_ignore_ascii_case(want),
        Value::List(items) => items.iter().any(|i| text_is(i, want)),
        other => other.to_string().eq_ignore_ascii_case(want),
    }
}

/// A built value, when it was checked, and whether a check runs.
struct Latest<T> {
    value: Arc<T>,
    /// What it was built from (rules version; indicator count and last
    /// change).
    stamp: (i64, i64),
    built: Instant,
    checked: Instant,
    checking: bool,
}

/// The rule set and the indicator index of this process.
pub struct Detection {
    store: Arc<dyn Store>,
    rules: Mutex<Option<Latest<RuleSet>>>,
    indicators: Mutex<Option<Latest<IndicatorIndex>>>,
    /// Threshold and sequence counts per tenant, for the rules version.
    counts: Mutex<HashMap<TenantId, (i64, CorrelationState)>>,
    /// Serialises rebuilds.
    building: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Detection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detection").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What one delivery raised.
#[derive(Debug, Default)]
pub struct Raised {
    pub alerts: Vec<NewAlert>,
    pub sightings: Vec<Sighting>,
}

impl Detection {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            rules: Mutex::new(None),
            indicators: Mutex::new(None),
            counts: Mutex::new(HashMap::new()),
            building: tokio::sync::Mutex::new(()),
        }
    }

    /// The rule set, built now if it is out of date (for the API and
    /// portal, which may wait).
    ///
    /// # Errors
    /// When the store fails.
    pub async fn rule_set(&self) -> garrison_store::StoreResult<Arc<RuleSet>> {
        let version = self.store.rules_version().await?;
        if let Some(l) = lock(&self.rules).as_ref().filter(|l| l.stamp.0 == version) {
            return Ok(l.value.clone());
        }
        self.rebuild_rules().await
    }

    async fn rebuild_rules(&self) -> garrison_store::StoreResult<Arc<RuleSet>> {
        let _one = self.building.lock().await;
        let version = self.store.rules_version().await?;
        if let Some(l) = lock(&self.rules).as_mut().filter(|l| l.stamp.0 == version) {
            l.checked = Instant::now();
            l.checking = false;
            return Ok(l.value.clone());
        }
        let files: Vec<(String, String)> = self
            .store
            .rule_files()
            .await?
            .into_iter()
            .map(|f| (f.origin, f.body))
            .collect();
        let settings = self
            .store
            .tenant_rules(
                &garrison_core::Principal::system("detection").access(),
                None,
            )
            .await?;
        let weights = self
            .store
            .magnitude_weights(&garrison_core::Principal::system("detection").access())
            .await?;
        let mut set =
            tokio::task::spawn_blocking(move || RuleSet::build(version, &files, settings))
                .await
                .map_err(|e| garrison_store::StoreError::Backend(format!("building rules: {e}")))?;
        set.weights = weights.into_iter().collect();
        let set = Arc::new(set);
        tracing::info!(
            version,
            sigma = set.sigma.len(),
            correlation = set.correlation.len(),
            errors = set.errors.len(),
            "detection rules built"
        );
        let now = Instant::now();
        *lock(&self.rules) = Some(Latest {
            value: set.clone(),
            stamp: (version, 0),
            built: now,
            checked: now,
            checking: false,
        });
        Ok(set)
    }

    async fn rebuild_indicators(
        &self,
        now: Timestamp,
    ) -> garrison_store::StoreResult<Arc<IndicatorIndex>> {
        let _one = self.building.lock().await;
        let stamp = self.store.indicators_stamp().await?;
        if let Some(l) = lock(&self.indicators)
            .as_mut()
            .filter(|l| l.stamp == stamp && l.built.elapsed() < INDICATOR_MAX_AGE)
        {
            l.checked = Instant::now();
            l.checking = false;
            return Ok(l.value.clone());
        }
        let mut builder = IndicatorIndexBuilder::new(now);
        let mut after: Option<IndicatorId> = None;
        loop {
            let page: Vec<Indicator> = self
                .store
                .live_indicators(now, after, INDICATOR_PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            let full = page.len() == INDICATOR_PAGE as usize;
            for i in &page {
                builder.push(i);
            }
            if !full {
                break;
            }
        }
        let index = tokio::task::spawn_blocking(move || builder.finish())
            .await
            .map_err(|e| {
                garrison_store::StoreError::Backend(format!("building indicators: {e}"))
            })?;
        let index = Arc::new(index);
        tracing::info!(indicators = index.len(), "indicator index built");
        let at = Instant::now();
        *lock(&self.indicators) = Some(Latest {
            value: index.clone(),
            stamp,
            built: at,
            checked: at,
            checking: false,
        });
        Ok(index)
    }

    /// The rule set and indicator index to detect with; at once after the
    /// first build (see the module documentation). `None` parts when the
    /// store failed before anything was built.
    pub(crate) async fn current(
        self: &Arc<Self>,
        now: Timestamp,
    ) -> (Option<Arc<RuleSet>>, Option<Arc<IndicatorIndex>>) {
        let rules = {
            let mut g = lock(&self.rules);
            g.as_mut().map(|l| {
                let due = !l.checking && l.checked.elapsed() >= RECHECK;
                if due {
                    l.checking = true;
                }
                (l.value.clone(), due)
            })
        };
        let rules = match rules {
            Some((set, due)) => {
                if due {
                    self.prune(&set, now);
                    let this = self.clone();
                    tokio::spawn(async move {
                        if let Err(e) = this.rebuild_rules().await {
                            tracing::warn!(error = %e, "detection rules not rebuilt");
                            if let Some(l) = lock(&this.rules).as_mut() {
                                l.checking = false;
                                l.checked = Instant::now();
                            }
                        }
                    });
                }
                Some(set)
            }
            None => match self.rebuild_rules().await {
                Ok(set) => Some(set),
                Err(e) => {
                    tracing::warn!(error = %e, "detection rules not built");
                    None
                }
            },
        };
        let indicators = {
            let mut g = lock(&self.indicators);
            g.as_mut().map(|l| {
                let due = !l.checking && l.checked.elapsed() >= RECHECK;
                if due {
                    l.checking = true;
                }
                (l.value.clone(), due)
            })
        };
        let indicators = match indicators {
            Some((ix, due)) => {
                if due {
                    let this = self.clone();
                    tokio::spawn(async move {
                        if let Err(e) = this.rebuild_indicators(now).await {
                            tracing::warn!(error = %e, "indicator index not rebuilt");
                            if let Some(l) = lock(&this.indicators).as_mut() {
                                l.checking = false;
                                l.checked = Instant::now();
                            }
                        }
                    });
                }
                Some(ix)
            }
            None => match self.rebuild_indicators(now).await {
                Ok(ix) => Some(ix),
                Err(e) => {
                    tracing::warn!(error = %e, "indicator index not built");
                    None
                }
            },
        };
        (rules, indicators)
    }

    /// What an enriched event raises (see the module documentation).
    pub(crate) fn detect(
        &self,
        rules: Option<&RuleSet>,
        indicators: Option<&IndicatorIndex>,
        weights: Weights,
        e: &Event,
        out: &mut Raised,
    ) {
        if let Some(a) = sensor_alert(e, weights) {
            out.alerts.push(a);
        }
        if let Some(rules) = rules {
            let mut hits: Vec<RuleMatch> = Vec::new();
            rules.sigma.matches(e, &mut hits);
            for h in hits {
                if !rules.allowed(e.tenant_id, &h.id, &e.fields) {
                    continue;
                }
                let meta = rules.sigma.rule(h.index);
                let level = meta.level.as_str();
                out.alerts.push(alert(
                    e,
                    Detector {
                        kind: DetectorKind::Sigma,
                        key: h.id.to_string(),
                        title: meta.title.clone(),
                    },
                    Part::of(
                        sigma_level_severity(level),
                        format!("Sigma rule \"{}\" is of level {level}", meta.title),
                    ),
                    Part::of(
                        sigma_status_credibility(meta.status.as_deref()),
                        format!(
                            "the rule's status is {}",
                            meta.status.as_deref().unwrap_or("not given")
                        ),
                    ),
                    weights,
                ));
            }
            if !rules.correlation.is_empty() {
                let mut fired: Vec<Fired> = Vec::new();
                {
                    let mut counts = lock(&self.counts);
                    let (version, state) = counts
                        .entry(e.tenant_id)
                        .or_insert_with(|| (rules.version, CorrelationState::default()));
                    if *version != rules.version {
                        *version = rules.version;
                        *state = CorrelationState::default();
                    }
                    state.observe(&rules.correlation, e, &mut fired);
                }
                for f in fired {
                    let c = &rules.correlation[f.rule];
                    if !rules.allowed(e.tenant_id, &c.rule.id, &e.fields) {
                        continue;
                    }
                    let mut a = alert(
                        e,
                        Detector {
                            kind: match c.rule.kind {
                                correlation::CorrelationKind::Threshold => DetectorKind::Threshold,
                                correlation::CorrelationKind::Sequence => DetectorKind::Sequence,
                            },
                            key: c.rule.id.clone(),
                            title: c.rule.title.clone(),
                        },
                        Part::of(
                            sigma_level_severity(&c.rule.level),
                            format!(
                                "rule \"{}\" (level {}) matched {} events within {}",
                                c.rule.title,
                                c.rule.level,
                                f.events.len(),
                                c.rule.window
                            ),
                        ),
                        Part::of(
                            sigma_status_credibility(c.rule.status.as_deref()),
                            format!(
                                "the rule's status is {}",
                                c.rule.status.as_deref().unwrap_or("not given")
                            ),
                        ),
                        weights,
                    );
                    a.key = garrison_core::offense::OffenseKey {
                        field: c.rule.group_by.join(","),
                        value: f.key.join(","),
                    };
                    a.contributing = f.events.into_iter().filter(|(_, id)| *id != e.id).collect();
                    out.alerts.push(a);
                }
            }
        }
        if let Some(ix) = indicators {
            let mut hits: Vec<IndicatorHit> = Vec::new();
            ix.matches(e.tenant_id, &e.fields, &mut hits);
            for h in hits {
                out.sightings.push(Sighting {
                    indicator_id: h.indicator,
                    tenant_id: e.tenant_id,
                    event_id: e.id,
                    seen_at: e.timestamp,
                });
                let value = e
                    .fields
                    .get(&h.field)
                    .map(ToString::to_string)
                    .unwrap_or_default();
                let mut a = alert(
                    e,
                    Detector {
                        kind: DetectorKind::Indicator,
                        key: h.indicator.to_string(),
                        title: format!("Known-bad {} seen: {value}", h.kind.as_str()),
                    },
                    Part::of(
                        indicator_severity(h.kind),
                        format!(
                            "a threat-intel {} indicator ({}) matched {}",
                            h.kind.as_str(),
                            if matches!(h.scope, garrison_core::indicator::IndicatorScope::Mssp) {
                                "MSSP-wide"
                            } else {
                                "this tenant's"
                            },
                            h.field
                        ),
                    ),
                    indicator_credibility(h.kind, h.confidence),
                    weights,
                );
                a.key = garrison_core::offense::OffenseKey {
                    field: h.field.clone(),
                    value,
                };
                out.alerts.push(a);
            }
        }
    }

    /// Forgets threshold and sequence counts older than every window.
    fn prune(&self, rules: &RuleSet, now: Timestamp) {
        for (_, (_, state)) in lock(&self.counts).iter_mut() {
            state.prune(&rules.correlation, now);
        }
    }
}

/// Credibility of an indicator match: its confidence, but at most 7 for
/// an address or network (shared hosting, NAT and Tor make an address
/// circumstantial evidence).
fn indicator_credibility(kind: garrison_core::indicator::IndicatorKind, confidence: u8) -> Part {
    use garrison_core::indicator::IndicatorKind as K;
    let c = f64::from(confidence) / 10.0;
    let mut p = Part::of(
        c,
        format!("the indicator's confidence is {confidence} of 100"),
    );
    if matches!(kind, K::Ipv4 | K::Ipv6 | K::Cidr) && c > 7.0 {
        p.set(7.0, "an address is circumstantial evidence: at most 7");
    }
    p
}

/// Severity of an indicator match by kind: a file hash names malware, an
/// address may be shared infrastructure.
fn indicator_severity(kind: garrison_core::indicator::IndicatorKind) -> f64 {
    use garrison_core::indicator::IndicatorKind as K;
    match kind {
        K::Md5 | K::Sha1 | K::Sha256 => 8.0,
        K::Url => 7.0,
        K::Domain | K::Email | K::Ja3 | K::Ja4 => 6.0,
        _ => 5.0,
    }
}

#[cfg(test)]
mod tests {
    use garrison_core::indicator::IndicatorKind;

    use super::*;

    #[test]
    fn an_address_is_trusted_at_most_seven_a_hash_as_much_as_its_confidence() {
        let ip = indicator_credibility(IndicatorKind::Ipv4, 90);
        assert!((ip.value - 7.0).abs() < f64::EPSILON);
        assert!(ip.reasons.iter().any(|r| r.text.contains("circumstantial")));
        let hash = indicator_credibility(IndicatorKind::Sha256, 90);
        assert!((hash.value - 9.0).abs() < f64::EPSILON);
        let low = indicator_credibility(IndicatorKind::Ipv4, 40);
        assert!((low.value - 4.0).abs() < f64::EPSILON);
        assert!(
            indicator_severity(IndicatorKind::Sha256) > indicator_severity(IndicatorKind::Ipv4)
        );
    }

    #[test]
    fn the_built_in_rules_load() {
        let set = RuleSet::build(1, &[], Vec::new());
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        assert_eq!(set.correlation.len(), BUILTIN_RULES.len());
    }
}
