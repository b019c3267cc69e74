//! `garrison import`: asset lists, scanner reports and vulnerability data,
//! with a progress bar and a summary.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use garrison_app::inventory::{ImportFile, VulnImportSummary};
use garrison_core::asset::{Import, ImportKind, ImportStatus};
use garrison_scan::{Format, Progress};
use serde_json::json;

use crate::cli::{ImportCommand, IntelArgs, RulesArgs, VulndbArgs};
use crate::commands::admin::operator;
use crate::config::Config;
use crate::runtime;

/// `garrison import ...`. Returns whether the file was read to its end.
pub async fn import(config: &Config, cmd: ImportCommand) -> Result<bool> {
    let (kind, args) = match cmd {
        ImportCommand::Template => {
            print!("{}", garrison_scan::assets::csv_template());
            return Ok(true);
        }
        ImportCommand::Vulndb(a) => return vulndb(config, a).await,
        ImportCommand::Intel(a) => return intel(config, a).await,
        ImportCommand::Rules(a) => return rules(config, a).await,
        ImportCommand::Assets(a) => (ImportKind::Assets, a),
        ImportCommand::Scan(a) => (ImportKind::Scan, a),
    };
    let format = match args.format.as_deref() {
        None => None,
        Some(f) => Some(Format::parse(f).ok_or_else(|| {
            anyhow::anyhow!(
                "unknown format `{f}`; use csv, json, nmap, nessus, openvas, qualys or scan-csv"
            )
        })?),
    };
    if !args.file.is_file() {
        bail!("{} is not a readable file", args.file.display());
    }
    let opened = runtime::open(config).await?;
    let app = runtime::app(config, &opened);
    let op = operator();
    let tenant = crate::commands::admin::tenant_of(&app, &args.tenant).await?;
    let size = std::fs::metadata(&args.file).map_or(0, |m| m.len());
    let name = args
        .file
        .file_name()
        .map_or_else(|| "file".to_owned(), |n| n.to_string_lossy().into_owned());
    let progress = Arc::new(Progress::default());
    let (bar, ticker) = super::progress_bar(size, &format!("importing {name}"), &progress);
    let started = Instant::now();
    let file = ImportFile {
        tenant: tenant.id,
        path: args.file.clone(),
        file_name: name.clone(),
        format,
        zone: args.zone.clone(),
        kind,
        delete_after: false,
    };
    let result = app.run_import(&op, file, progress.clone()).await;
    ticker.abort();
    bar.finish_and_clear();
    let done = result?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "id": done.id, "tenant": tenant.slug, "file": name, "format": done.format,
                "status": done.status.as_str(), "counts": done.counts,
                "rejections": done.rejections, "error": done.error,
            }))?
        );
    } else {
        summary(&done, &tenant.slug, &name, started.elapsed());
    }
    match (&done.status, &done.error) {
        (ImportStatus::Failed, e) | (ImportStatus::Partial, e @ Some(_)) => {
            bail!(
                "{name}: {}",
                e.clone().unwrap_or_else(|| "the import failed".to_owned())
            )
        }
        _ => Ok(true),
    }
}

/// `garrison import intel FILE`: a tenant's or the MSSP's indicators.
async fn intel(config: &Config, args: IntelArgs) -> Result<bool> {
    use garrison_app::intel::feed::{FeedDefaults, FeedFormat};
    use garrison_app::intel::{IntelImport, IntelTarget};
    use garrison_core::indicator::{KindHint, Tlp};

    let name = args
        .file
        .file_name()
        .map_or_else(|| "file".to_owned(), |n| n.to_string_lossy().into_owned());
    let format = match args.format.as_deref() {
        None => FeedFormat::for_file_name(&name),
        Some(f) => FeedFormat::parse(f)
            .ok_or_else(|| anyhow::anyhow!("unknown format `{f}`; use csv or txt"))?,
    };
    let kind = match args.kind.as_deref() {
        None => KindHint::Detect,
        Some(k) => match KindHint::parse(k) {
            Some(h) => h,
            None => bail!(
                "unknown type `{k}`; use ipv4, ipv6, cidr, domain, url, md5, sha1, sha256, email, ja3 or ja4"
            ),
        },
    };
    let tlp: Tlp = args.tlp.parse()?;
    if !args.file.is_file() {
        bail!("{} is not a readable file", args.file.display());
    }
    let opened = runtime::open(config).await?;
    let app = runtime::app(config, &opened);
    let (target, scope_name) = match &args.tenant {
        Some(slug) => {
            let tenant = crate::commands::admin::tenant_of(&app, slug).await?;
            (IntelTarget::Tenant(tenant.id), tenant.slug)
        }
        None => (IntelTarget::Mssp, "every tenant (MSSP-wide)".to_owned()),
    };
    let mut defaults = FeedDefaults::new(args.source.as_deref().unwrap_or(&name));
    defaults.confidence = args.confidence;
    defaults.tlp = tlp;
    defaults.kind = kind;
    defaults.tags = garrison_core::indicator::clean_tags(args.tags.iter().map(String::as_str));
    if let Some(days) = args.valid_days {
        defaults.valid_until = Some(
            garrison_core::Clock::now(&garrison_core::SystemClock)
                .plus(Duration::from_secs(u64::from(days) * 86_400)),
        );
    }
    let size = std::fs::metadata(&args.file).map_or(0, |m| m.len());
    let progress = Arc::new(Progress::default());
    let (bar, ticker) = super::progress_bar(size, &format!("importing {name}"), &progress);
    let started = Instant::now();
    let import = IntelImport {
        path: args.file.clone(),
        file_name: name.clone(),
        format,
        target,
        defaults,
    };
    let result = app
        .import_intel(&operator(), import, progress.clone())
        .await;
    ticker.abort();
    bar.finish_and_clear();
    let done = result?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&done)?);
    } else {
        let c = &done.counts;
        println!(
            "Imported {name} ({}) into {scope_name} as source `{}` in {:.1} s",
            done.format.as_str(),
            done.source,
            started.elapsed().as_secs_f64()
        );
        println!(
            "  indicators {}: new {}, updated {}, unchanged {}; rejected {}",
            done.accepted, c.new, c.updated, c.unchanged, done.rejected
        );
        for w in &done.warnings {
            println!("  note: {w}");
        }
        for r in &done.rejections {
            println!("    {name}:{}: {}", r.line, r.reason);
        }
        let shown = done.rejections.len() as u64;
        if done.rejected > shown {
            println!("    ... and {} more", done.rejected - shown);
        }
    }
    if let Some(e) = &done.error {
        bail!("{name}: {e}");
    }
    Ok(true)
}

/// A file's origin and its text (or why it could not be read).
type Named = (String, String);

/// Rule files under `root` (or `root` itself): `(origin, text)` with the
/// origin the path below `root` (forward slashes), and the files that could
/// not be read.
fn rule_files(root: &std::path::Path) -> (Vec<Named>, Vec<Named>) {
    let mut files = Vec::new();
    let mut unreadable = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    let base = if root.is_dir() {
        root.to_path_buf()
    } else {
        root.parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default()
    };
    while let Some(path) = stack.pop() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.is_dir() {
            if path != root && name.starts_with('.') {
                continue;
            }
            match std::fs::read_dir(&path) {
                Ok(entries) => stack.extend(entries.filter_map(|e| e.ok().map(|e| e.path()))),
                Err(e) => unreadable.push((path.display().to_string(), e.to_string())),
            }
            continue;
        }
        let yaml = std::path::Path::new(&name)
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("yml") || x.eq_ignore_ascii_case("yaml"));
        if !yaml && path != root {
            continue;
        }
        let origin = path
            .strip_prefix(&base)
            .unwrap_or(&path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        match std::fs::metadata(&path) {
            Ok(m) if m.len() > garrison_app::rules::MAX_RULE_FILE_BYTES as u64 => {
                unreadable.push((
                    origin,
                    format!(
                        "larger than {} bytes",
                        garrison_app::rules::MAX_RULE_FILE_BYTES
                    ),
                ));
                continue;
            }
            Err(e) => {
                unreadable.push((origin, e.to_string()));
                continue;
            }
            Ok(_) => {}
        }
        match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => files.push((origin, text)),
                Err(_) => unreadable.push((origin, "not UTF-8 text".to_owned())),
            },
            Err(e) => unreadable.push((origin, e.to_string())),
        }
    }
    files.sort();
    (files, unreadable)
}

/// `garrison import rules PATH`: as the operator, for every tenant.
async fn rules(config: &Config, args: RulesArgs) -> Result<bool> {
    if !args.path.exists() {
        bail!(
            "{} does not exist; give a folder of .yml rules or one rule file",
            args.path.display()
        );
    }
    let started = Instant::now();
    let (files, unreadable) = rule_files(&args.path);
    if files.is_empty() && unreadable.is_empty() {
        bail!("{}: no .yml or .yaml file found", args.path.display());
    }
    let opened = runtime::open(config).await?;
    let app = runtime::app(config, &opened);
    let bar = indicatif::ProgressBar::new_spinner()
        .with_message(format!("checking {} rule files", files.len()));
    bar.enable_steady_tick(Duration::from_millis(120));
    let result = app.import_rules(&operator(), files).await;
    bar.finish_and_clear();
    let mut done = result?;
    done.files += unreadable.len() as u64;
    done.failed
        .extend(
            unreadable
                .into_iter()
                .map(|(origin, reason)| garrison_app::rules::FailedRule {
                    origin,
                    rule: None,
                    reason,
                }),
        );
    if args.json {
        println!("{}", serde_json::to_string_pretty(&done)?);
    } else {
        println!(
            "Read {} rule files from {} in {:.1} s",
            done.files,
            args.path.display(),
            started.elapsed().as_secs_f64()
        );
        println!(
            "  stored: new {}, replaced {}, unchanged {} ({} rules); failed: {}",
            done.stored.new,
            done.stored.updated,
            done.stored.unchanged,
            done.rules,
            done.failed.len()
        );
        println!(
            "  rules loaded now, all files together: {}",
            done.total_rules
        );
        for f in &done.failed {
            match &f.rule {
                Some(r) => println!("    {} ({r}): {}", f.origin, f.reason),
                None => println!("    {}: {}", f.origin, f.reason),
            }
        }
    }
    Ok(true)
}

/// `garrison import vulndb FILE`: as the operator, for all tenants.
async fn vulndb(config: &Config, args: VulndbArgs) -> Result<bool> {
    let format = match args.format.as_deref() {
        None => None,
        Some(f) => match Format::parse(f) {
            Some(fmt @ (Format::NvdJson | Format::KevJson | Format::EpssCsv)) => Some(fmt),
            _ => bail!("unknown vulnerability data format `{f}`; use nvd, kev or epss"),
        },
    };
    if !args.file.is_file() {
        bail!("{} is not a readable file", args.file.display());
    }
    let opened = runtime::open(config).await?;
    let app = runtime::app(config, &opened);
    let size = std::fs::metadata(&args.file).map_or(0, |m| m.len());
    let name = args
        .file
        .file_name()
        .map_or_else(|| "file".to_owned(), |n| n.to_string_lossy().into_owned());
    let progress = Arc::new(Progress::default());
    let (bar, ticker) = super::progress_bar(size, &format!("importing {name}"), &progress);
    let started = Instant::now();
    let result = app
        .import_vulndb(&operator(), &args.file, format, progress.clone())
        .await;
    ticker.abort();
    bar.finish_and_clear();
    let done = result?;
    let i = &done.import;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "id": i.id, "file": name, "format": i.format, "status": i.status.as_str(),
                "version": done.version, "records": done.records, "inserted": done.inserted,
                "updated": done.updated, "removed_from_kev": done.removed_from_kev,
                "skipped": done.skipped,
                "skips": done.skips.iter().map(|s| json!({
                    "line": s.line, "index": s.index, "cve": s.cve, "reason": s.reason,
                })).collect::<Vec<_>>(),
                "matches": done.matches, "assets_rescored": done.assets_rescored,
                "error": i.error,
            }))?
        );
    } else {
        vulndb_summary(&done, &name, started.elapsed());
    }
    match (&i.status, &i.error) {
        (ImportStatus::Failed, e) | (ImportStatus::Partial, e @ Some(_)) => {
            bail!(
                "{}",
                e.clone()
                    .unwrap_or_else(|| format!("{name}: the import failed"))
            )
        }
        _ => Ok(true),
    }
}

fn vulndb_summary(done: &VulnImportSummary, name: &str, took: Duration) {
    let i = &done.import;
    println!(
        "Imported {name} ({}{}): {} in {:.1} s",
        i.format,
        done.version
            .as_deref()
            .map(|v| format!(" {v}"))
            .unwrap_or_default(),
        i.status.as_str(),
        took.as_secs_f64()
    );
    println!(
        "  records {}: CVEs inserted {}, updated {}",
        done.records, done.inserted, done.updated
    );
    if done.removed_from_kev > 0 {
        println!(
            "  {} CVE(s) no longer in the catalogue lost their KEV status",
            done.removed_from_kev
        );
    }
    let m = &done.matches;
    if i.format == Format::NvdJson.as_str() {
        println!(
            "  installed software of {} asset(s) matched: findings new {}, reopened {}, fixed {}, unchanged {}",
            m.assets_matched, m.new, m.reopened, m.fixed, m.unchanged
        );
    }
    println!("  assets re-scored: {}", done.assets_rescored);
    if done.skipped > 0 {
        println!("  skipped {} record(s):", done.skipped);
        for s in &done.skips {
            println!("    {name}: {s}");
        }
        let shown = done.skips.len() as u64;
        if done.skipped > shown {
            println!("    ... and {} more", done.skipped - shown);
        }
    }
}

fn summary(done: &Import, tenant: &str, name: &str, took: Duration) {
    let c = &done.counts;
    println!(
        "Imported {name} ({}) into {tenant}: {} in {:.1} s",
        done.format,
        done.status.as_str(),
        took.as_secs_f64()
    );
    println!(
        "  hosts {}: assets created {}, updated {}, unchanged {}",
        c.hosts, c.assets_created, c.assets_updated, c.assets_unchanged
    );
    if done.kind == ImportKind::Scan {
        println!(
            "  findings: new {}, reopened {}, fixed {}, unchanged {}",
            c.findings_new, c.findings_reopened, c.findings_fixed, c.findings_unchanged
        );
    }
    if c.rejected > 0 {
        println!("  rejected {} record(s):", c.rejected);
        for r in &done.rejections {
            println!("    {name}:{}: {}", r.line, r.reason);
        }
        let shown = done.rejections.len() as u64;
        if c.rejected > shown {
            println!("    ... and {} more", c.rejected - shown);
        }
    }
}
