//! `garrison ingest FILE`: a log file into a tenant's events, with a
//! progress bar and a summary.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use garrison_app::events::ingest::IngestSummary;
use garrison_scan::Progress;

use crate::cli::IngestArgs;
use crate::commands::admin::operator;
use crate::config::Config;
use crate::runtime;

/// `garrison ingest FILE --tenant SLUG [--format F] [--json]`.
pub async fn ingest(config: &Config, args: IngestArgs) -> Result<()> {
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
    let (bar, ticker) = super::progress_bar(size, &format!("ingesting {name}"), &progress);
    let started = Instant::now();
    let result = app
        .ingest_file(&op, tenant.id, &args.file, args.format, progress.clone())
        .await;
    ticker.abort();
    bar.finish_and_clear();
    app.pipeline().shutdown().await;
    let done = result?;
    if args.json {
        let mut value = serde_json::to_value(&done)?;
        value["tenant_id"] = value["tenant"].take();
        value["tenant"] = serde_json::Value::String(tenant.slug.clone());
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        summary(&done, &tenant.slug, started.elapsed());
    }
    Ok(())
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn summary(done: &IngestSummary, tenant: &str, took: Duration) {
    println!(
        "Ingested {} ({}) into {tenant} in {:.1} s",
        done.file,
        done.format,
        took.as_secs_f64()
    );
    let mut line = format!(
        "  {} lines: {} stored, {} failed",
        thousands(done.lines),
        thousands(done.stored),
        thousands(done.failed)
    );
    if done.duplicates > 0 {
        line.push_str(&format!(", {} already stored", thousands(done.duplicates)));
    }
    println!("{line}");
    if done.blank > 0 || done.truncated > 0 {
        println!(
            "  {} blank line(s) skipped, {} line(s) over 64 KiB cut",
            thousands(done.blank),
            thousands(done.truncated)
        );
    }
    for f in &done.failures {
        println!("    {}:{}: {}", done.file, f.line, f.reason);
    }
    let shown = done.failures.len() as u64;
    if done.failed > shown {
        println!("    ... and {} more", thousands(done.failed - shown));
    }
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_489), "1,489");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
