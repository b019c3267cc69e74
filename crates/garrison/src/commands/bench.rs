//! `garrison bench`: measures the performance targets on this machine, on a
//! throw-away SQLite database (or a PostgreSQL database given with
//! `--database-url`), with synthetic inputs of the target sizes:
//!
//! - a Nessus report of 300 MB imported in at most 60 s with a peak
//!   memory of at most 256 MB;
//! - an asset-list CSV of 100,000 rows imported in at most 20 s;
//! - hostile XML (an entity bomb, an external entity) refused within 1 s
//!   and 64 MB;
//! - an `AssetIndex` of 100,000 assets and 10,000 ranges answering a
//!   lookup by address in at most 1 µs (`cargo bench -p garrison-detect`
//!   measures it in more detail).
//!
//! Peak memory is the process's resident high-water mark (`VmHWM`), reset
//! before each measurement through `/proc/self/clear_refs` (Linux); it
//! includes what the process held before the measurement started.
//! Build with `--release`: a debug build is several times slower.

use std::io::BufWriter;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use garrison_app::inventory::{ImportFile, Progress};
use garrison_core::asset::{ImportKind, ImportStatus};
use garrison_core::{Principal, Secret};
use garrison_scan::synthetic;
use serde_json::json;

use crate::cli::BenchArgs;
use crate::config::{Config, Database, SecretSource};
use crate::runtime;

/// One measurement against its target: at most the target (a time, a
/// size), or at least (a rate) once marked with [`Figure::at_least`].
pub(super) struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
    pub target: f64,
    pub detail: String,
    pub at_least: bool,
}

impl Figure {
    fn met(&self) -> bool {
        if self.at_least {
            self.value >= self.target
        } else {
            self.value <= self.target
        }
    }

    /// The value must reach the target rather than stay under it.
    pub(super) const fn at_least(mut self) -> Self {
        self.at_least = true;
        self
    }
}

/// Resets the peak resident size, where the kernel allows it.
pub(super) fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A size line of `/proc/self/status` (`VmHWM`, `VmRSS`), in MiB (Linux).
fn status_mib(key: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The peak resident size since the last reset, in MiB.
pub(super) fn peak_mib() -> Option<f64> {
    status_mib("VmHWM:")
}

/// Peak memory of one measurement: the process's peak, and how far it
/// rose above what the process held when the measurement started.
#[derive(Clone, Copy)]
struct Peak {
    total: f64,
    rise: f64,
}

/// `garrison bench`.
pub async fn bench(config: &Config, args: &BenchArgs) -> Result<bool> {
    let dir = tempfile::tempdir().context("a temporary directory")?;
    let mut config = config.clone();
    config.data_dir = dir.path().join("data");
    config.database = match &args.database_url {
        Some(url) => Database::Postgres {
            url: Secret::new(url.clone()),
            max_connections: 16,
        },
        None => Database::Sqlite(config.data_dir.join("bench.db")),
    };
    config.secret = SecretSource::File(config.data_dir.join("secret.key"));
    let opened = runtime::open(&config).await?;
    let app = runtime::app(&config, &opened);
    let op = Principal::system("bench");
    let chosen: Vec<&String> = args.what.iter().chain(&args.only).collect();
    let known = ["nessus", "csv", "xml", "index", "ingest"];
    if let Some(bad) = chosen.iter().find(|c| !known.contains(&c.as_str())) {
        bail!(
            "`{bad}` is not a measurement; choose among {}",
            known.join(", ")
        );
    }
    let only = |name: &str| chosen.is_empty() || chosen.iter().any(|o| *o == name);
    let mut figures = Vec::new();
    let quiet = args.json;
    let say = |s: String| {
        if !quiet {
            eprintln!("{s}");
        }
    };

    // First, while the process is small, so that the rise of its peak
    // is the refusal's own.
    if only("xml") {
        let secret = dir.path().join("secret.txt");
        std::fs::write(&secret, "never read")?;
        for (name, text) in [
            ("entity bomb", synthetic::entity_bomb()),
            (
                "external entity",
                synthetic::external_entity(&format!("file://{}", secret.display())),
            ),
        ] {
            let path = dir.path().join("hostile.nessus");
            std::fs::write(&path, text)?;
            let (secs, peak, import) =
                timed_import(&app, &op, "bench-xml", &path, ImportKind::Scan).await?;
            if import.status != ImportStatus::Failed {
                bail!("the {name} was not refused: {:?}", import.status);
            }
            let why = import.error.unwrap_or_default();
            figures.push(Figure {
                at_least: false,
                name: format!("{name}: refused in"),
                value: secs,
                unit: "s",
                target: 1.0,
                detail: why.clone(),
            });
            if let Some(p) = peak {
                figures.push(Figure {
                    at_least: false,
                    name: format!("{name}: memory used"),
                    value: p.rise,
                    unit: "MiB",
                    target: 64.0,
                    detail: format!("rise of the process's peak while refusing it; {why}"),
                });
            }
        }
    }

    if only("nessus") {
        let bytes = args.nessus_mb * 1_000_000;
        say(format!(
            "writing a synthetic Nessus report of {} MB…",
            args.nessus_mb
        ));
        let path = dir.path().join("synthetic.nessus");
        let shape = synthetic::NessusShape::of_size(bytes);
        let mut out = BufWriter::new(std::fs::File::create(&path)?);
        let written = synthetic::nessus(&mut out, shape)?;
        drop(out);
        say(format!(
            "importing it ({} hosts, {} findings each)…",
            shape.hosts, shape.findings_per_host
        ));
        let (secs, peak, import) =
            timed_import(&app, &op, "bench-nessus", &path, ImportKind::Scan).await?;
        let detail = format!(
            "{:.0} MB, {} hosts, {} findings, {:.1} MB/s",
            written as f64 / 1e6,
            import.counts.hosts,
            import.counts.findings_new,
            written as f64 / 1e6 / secs
        );
        figures.push(Figure {
            at_least: false,
            name: format!("nessus {} MB: time", args.nessus_mb),
            value: secs,
            unit: "s",
            target: 60.0 * args.nessus_mb as f64 / 300.0,
            detail: detail.clone(),
        });
        if let Some(p) = peak {
            figures.push(Figure {
                at_least: false,
                name: format!("nessus {} MB: peak memory", args.nessus_mb),
                value: p.total,
                unit: "MiB",
                target: 256.0,
                detail: format!(
                    "whole process; {:.0} MiB above its size before the import",
                    p.rise
                ),
            });
        }
        std::fs::remove_file(&path)?;
    }

    if only("csv") {
        say(format!("writing an asset list of {} rows…", args.csv_rows));
        let path = dir.path().join("assets.csv");
        let mut out = BufWriter::new(std::fs::File::create(&path)?);
        let written = synthetic::asset_csv(&mut out, args.csv_rows)?;
        drop(out);
        say("importing it…".to_owned());
        let (secs, peak, import) =
            timed_import(&app, &op, "bench-csv", &path, ImportKind::Assets).await?;
        figures.push(Figure {
            at_least: false,
            name: format!("asset CSV {} rows: time", args.csv_rows),
            value: secs,
            unit: "s",
            target: 20.0 * args.csv_rows as f64 / 100_000.0,
            detail: format!(
                "{:.1} MB, {} assets created, {:.0} rows/s, peak {:.0} MiB",
                written as f64 / 1e6,
                import.counts.assets_created,
                args.csv_rows as f64 / secs,
                peak.map_or(0.0, |p| p.total)
            ),
        });
        std::fs::remove_file(&path)?;
    }

    if only("index") {
        say("building an asset index of 100,000 assets and 10,000 ranges…".to_owned());
        figures.extend(index_figures());
    }

    if only("ingest") {
        figures.extend(
            super::bench_ingest::figures(&app, args.ingest_seconds, args.ingest_rate, &say).await?,
        );
    }

    let all_met = figures.iter().all(Figure::met);
    if args.json {
        let list: Vec<_> = figures
            .iter()
            .map(|f| {
                json!({"name": f.name, "value": f.value, "unit": f.unit, "target": f.target,
                       "met": f.met(), "detail": f.detail})
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "database": if args.database_url.is_some() { "postgres" } else { "sqlite" },
                "release_build": !cfg!(debug_assertions),
                "figures": list,
            }))?
        );
    } else {
        if cfg!(debug_assertions) {
            println!("(a debug build: run `cargo run --release -- bench` for real figures)");
        }
        println!("{:<34} {:>10}   {:>8}   ok", "measure", "value", "target");
        for f in &figures {
            // Small times read better in milliseconds.
            let (value, unit, target) = if f.unit == "s" && f.value < 0.1 {
                (f.value * 1000.0, "ms", f.target * 1000.0)
            } else {
                (f.value, f.unit, f.target)
            };
            println!(
                "{:<34} {:>8.2} {:<3} {:>6.0} {:<3} {}   {}",
                f.name,
                value,
                unit,
                target,
                unit,
                if f.met() { "yes" } else { "NO " },
                f.detail
            );
        }
        println!(
            "{}",
            if all_met {
                "Every target is met."
            } else {
                "Some targets are missed."
            }
        );
    }
    Ok(all_met)
}

/// Imports `path` into a fresh tenant; returns the seconds taken, the peak
/// memory and the import.
async fn timed_import(
    app: &Arc<garrison_app::App>,
    op: &Principal,
    slug_prefix: &str,
    path: &Path,
    kind: ImportKind,
) -> Result<(f64, Option<Peak>, garrison_core::asset::Import)> {
    let slug = format!(
        "{slug_prefix}-{}",
        garrison_core::ImportId::new()
            .to_string()
            .split('-')
            .next_back()
            .unwrap_or("x")
    );
    let tenant = app.create_tenant(op, &slug, &slug).await?;
    let file = ImportFile {
        tenant: tenant.id,
        path: path.to_owned(),
        file_name: path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        format: None,
        zone: None,
        kind,
        delete_after: false,
    };
    reset_peak();
    let before = status_mib("VmRSS:");
    let started = Instant::now();
    let import = app
        .run_import(op, file, Arc::new(Progress::default()))
        .await?;
    let secs = started
        .elapsed()
        .max(Duration::from_micros(1))
        .as_secs_f64();
    let peak = peak_mib().zip(before).map(|(total, before)| Peak {
        total,
        rise: (total - before).max(0.0),
    });
    Ok((secs, peak, import))
}

/// Builds an index of 100,000 assets in 10,000 /24 ranges (under 40 /16
/// sites) and times a million lookups of asset addresses, in random order.
fn index_figures() -> Vec<Figure> {
    use garrison_app::inventory::{AssetIndex, AssetProfile};
    use garrison_core::asset::NetworkRange;
    use std::net::{IpAddr, Ipv4Addr};

    let tenant = garrison_core::TenantId::new();
    let mut ranges = Vec::with_capacity(10_040);
    for site in 0..40u8 {
        ranges.push(NetworkRange {
            id: garrison_core::RangeId::new(),
            tenant_id: tenant,
            cidr: format!("10.{site}.0.0/16"),
            zone: format!("site-{site}"),
            default_criticality: None,
            description: None,
        });
        for subnet in 0..250u8 {
            ranges.push(NetworkRange {
                id: garrison_core::RangeId::new(),
                tenant_id: tenant,
                cidr: format!("10.{site}.{subnet}.0/24"),
                zone: format!("site-{site}"),
                default_criticality: None,
                description: None,
            });
        }
    }
    let mut ips = Vec::with_capacity(100_000);
    let now = garrison_core::Timestamp::from_millis(0);
    let assets: Vec<AssetProfile> = (0..100_000u32)
        .map(|n| {
            let site = u8::try_from(n % 40).unwrap_or(0);
            let subnet = u8::try_from((n / 40) % 250).unwrap_or(0);
            let host = u8::try_from(1 + (n / 10_000)).unwrap_or(1);
            let ip = IpAddr::V4(Ipv4Addr::new(10, site, subnet, host));
            ips.push(ip);
            AssetProfile {
                id: garrison_core::AssetId::new(),
                tenant_id: tenant,
                name: format!("asset-{n}"),
                zone: format!("site-{site}"),
                ips: vec![ip],
                asset_type: None,
                criticality: None,
                sensitivity: None,
                regulations: std::collections::BTreeSet::new(),
                internet_exposed: None,
                tags: std::collections::BTreeSet::new(),
                owner: None,
                risk_score: 0.0,
                open_findings: 0,
                kev_findings: 0,
                exposures: Vec::new(),
                last_seen: now,
            }
        })
        .collect();
    let started = Instant::now();
    let index = AssetIndex::build(tenant, assets, &ranges);
    let build = started.elapsed().as_secs_f64();
    // A fixed shuffle of the addresses, so that caches help no more than
    // with real traffic.
    let mut order: Vec<usize> = (0..ips.len()).collect();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..order.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let j = usize::try_from(x % (i as u64 + 1)).unwrap_or(0);
        order.swap(i, j);
    }
    let lookups = 1_000_000usize;
    let mut found = 0usize;
    let started = Instant::now();
    for k in 0..lookups {
        let ip = ips[order[k % order.len()]];
        if matches!(
            std::hint::black_box(index.lookup(std::hint::black_box(ip))),
            garrison_app::inventory::Lookup::Asset { .. }
        ) {
            found += 1;
        }
    }
    let per_lookup_ns = started.elapsed().as_secs_f64() * 1e9 / lookups as f64;
    vec![
        Figure {
            at_least: false,
            name: "asset index: lookup by IP".to_owned(),
            value: per_lookup_ns / 1000.0,
            unit: "µs",
            target: 1.0,
            detail: format!(
                "{:.0} ns mean over {lookups} lookups, {found} found; {} assets, {} ranges",
                per_lookup_ns,
                index.len(),
                index.ranges_len()
            ),
        },
        Figure {
            at_least: false,
            name: "asset index: build".to_owned(),
            value: build,
            unit: "s",
            target: 10.0,
            detail: "100,000 assets and 10,040 ranges".to_owned(),
        },
    ]
}
