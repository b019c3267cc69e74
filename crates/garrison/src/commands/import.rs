//! `garrison import`: asset lists, scanner reports and vulnerability data,
//! with a progress bar and a summary.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use garrison_app::inventory::{ImportFile, VulnImportSummary};
use garrison_core::asset::{Import, ImportKind, ImportStatus};
use garrison_scan::{Format, Progress};
use serde_json::json;

use crate::cli::{ImportCommand, VulndbArgs};
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
