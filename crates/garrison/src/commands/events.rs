//! `garrison events purge|retention`: the retention purge run once, and
//! each tenant's retention in days.

use anyhow::Result;
use garrison_app::events::retention::PurgeSummary;
use serde_json::json;

use crate::cli::EventsCommand;
use crate::commands::admin::{operator, tenant_of as tenant};
use crate::config::Config;
use crate::runtime;

/// `garrison events ...`; `false` when a tenant's purge failed.
pub async fn events(config: &Config, cmd: EventsCommand) -> Result<bool> {
    let opened = runtime::open(config).await?;
    let app = runtime::app(config, &opened);
    let op = operator();
    let ok = match cmd {
        EventsCommand::Purge { tenant: slug, json } => {
            let id = match slug {
                Some(s) => Some(tenant(&app, &s).await?.id),
                None => None,
            };
            let summary = app.purge_expired_events(&op, id).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&summary)?);
            } else {
                print_purge(&summary);
            }
            summary.failed == 0
        }
        EventsCommand::Retention {
            tenant: slug,
            days,
            json,
        } => {
            let tenants = match slug {
                Some(s) => vec![tenant(&app, &s).await?],
                None => app.list_tenants(&op).await?,
            };
            if let (Some(days), [t]) = (days, tenants.as_slice()) {
                app.set_event_retention_days(&op, t.id, days).await?;
            }
            let mut rows = Vec::with_capacity(tenants.len());
            for t in tenants {
                let days = app.event_retention_days(&op, t.id).await?;
                rows.push((t, days));
            }
            if json {
                let list: Vec<_> = rows
                    .iter()
                    .map(|(t, d)| json!({ "tenant": t.slug, "tenant_id": t.id, "days": d }))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if rows.is_empty() {
                println!("No tenants.");
            } else {
                for (t, d) in rows {
                    println!("{}: events kept {d} days", t.slug);
                }
            }
            true
        }
    };
    app.pipeline().shutdown().await;
    Ok(ok)
}

fn plural(n: u64, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

fn print_purge(s: &PurgeSummary) {
    for t in &s.tenants {
        match &t.error {
            Some(e) => println!("{}: purge failed: {e}", t.slug),
            None => println!(
                "{}: {} older than {} days deleted",
                t.slug,
                plural(t.purged, "event"),
                t.days
            ),
        }
    }
    println!(
        "Purged {} in {}.",
        plural(s.purged, "event"),
        plural(s.tenants.len() as u64, "tenant")
    );
}
