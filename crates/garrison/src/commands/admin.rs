//! Operator commands: tenants, users, tokens, migrations, audit
//! verification. They act as the operator (`Principal::system`), who holds
//! the data directory and therefore every right; each action is audited
//! under the operator's name.

use anyhow::{Result, bail};
use garrison_app::App;
use garrison_app::admin::CreateUser;
use garrison_core::{Principal, Role};
use garrison_store::UserFilter;
use serde_json::json;

use crate::cli::{AuditCommand, IngestTokenCommand, TenantCommand, TokenCommand, UserCommand};
use crate::config::Config;
use crate::runtime;

/// The operator running a command, named for the audit log.
pub fn operator() -> Principal {
    let who = std::env::var("USER").unwrap_or_else(|_| "operator".to_owned());
    Principal::system(format!("cli:{who}"))
}

fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

async fn open_app(config: &Config) -> Result<std::sync::Arc<App>> {
    let opened = runtime::open(config).await?;
    Ok(runtime::app(config, &opened))
}

/// `garrison migrate`.
pub async fn migrate(config: &Config, as_json: bool) -> Result<()> {
    let opened = runtime::open(config).await?;
    let r = &opened.migrations;
    if as_json {
        print_json(&json!({ "applied": r.applied, "current": r.current }));
    } else if r.applied.is_empty() {
        println!("The database is up to date (schema version {}).", r.current);
    } else {
        println!(
            "Applied {} migration(s); the schema is now at version {}.",
            r.applied.len(),
            r.current
        );
    }
    Ok(())
}

/// `garrison tenant ...`.
pub async fn tenant(config: &Config, cmd: TenantCommand) -> Result<()> {
    let app = open_app(config).await?;
    let op = operator();
    match cmd {
        TenantCommand::Create { slug, name, json } => {
            let t = app
                .create_tenant(&op, &slug, name.as_deref().unwrap_or(&slug))
                .await?;
            if json {
                print_json(&json!({ "id": t.id, "slug": t.slug, "name": t.name }));
            } else {
                println!("Created tenant {} ({}), id {}.", t.slug, t.name, t.id);
            }
        }
        TenantCommand::List { json } => {
            let tenants = app.list_tenants(&op).await?;
            if json {
                print_json(&json!(tenants
                    .iter()
                    .map(|t| json!({ "id": t.id, "slug": t.slug, "name": t.name,
                        "mfa_required_for_all": t.mfa_required_for_all, "created_at": t.created_at.to_rfc3339() }))
                    .collect::<Vec<_>>()));
            } else if tenants.is_empty() {
                println!(
                    "No tenants yet. Create one with: garrison tenant create SLUG --name NAME"
                );
            } else {
                println!("{:<24} {:<32} {:<36}", "SLUG", "NAME", "ID");
                for t in &tenants {
                    println!("{:<24} {:<32} {:<36}", t.slug, t.name, t.id);
                }
                println!("{} tenant(s).", tenants.len());
            }
        }
    }
    Ok(())
}

/// `garrison user ...`.
pub async fn user(config: &Config, cmd: UserCommand) -> Result<()> {
    let app = open_app(config).await?;
    let op = operator();
    match cmd {
        UserCommand::Create {
            email,
            role,
            tenant,
            name,
            json,
        } => {
            let role: Role = role.parse()?;
            let tenant = match (role.is_mssp(), tenant) {
                (false, None) => bail!("a {role} belongs to a tenant: add --tenant SLUG"),
                (true, Some(_)) => bail!("MSSP staff ({role}) belong to no tenant: drop --tenant"),
                (_, Some(slug)) => Some(tenant_of(&app, &slug).await?),
                (true, None) => None,
            };
            let created = app
                .create_user(
                    &op,
                    CreateUser {
                        email,
                        display_name: name,
                        role,
                        tenant: tenant.as_ref().map(|t| t.id),
                    },
                )
                .await?;
            let u = &created.user;
            if json {
                print_json(&json!({
                    "id": u.id, "email": u.email, "role": u.role.as_str(),
                    "tenant": tenant.as_ref().map(|t| t.slug.clone()),
                    "one_time_password": created.one_time_password.expose(),
                }));
            } else {
                let place = tenant
                    .map_or_else(|| "MSSP staff".to_owned(), |t| format!("tenant {}", t.slug));
                println!("Created {} ({}, {place}).", u.email, u.role);
                println!("One-time password: {}", created.one_time_password.expose());
                println!(
                    "The user chooses their own password at first login{}.",
                    if u.role.always_requires_mfa() {
                        " and sets up MFA"
                    } else {
                        ""
                    }
                );
            }
        }
        UserCommand::Assign { email, tenant } => {
            let user = app.user_by_email(&op, &email).await?;
            let t = app.tenant_by_slug(&op, &tenant).await?;
            app.assign_staff(&op, user.id, t.id).await?;
            println!("Assigned {} to tenant {}.", user.email, t.slug);
        }
        UserCommand::List { json } => {
            let users = app.list_users(&op, UserFilter::All).await?;
            let tenants = app.list_tenants(&op).await?;
            let slug = |id: Option<garrison_core::TenantId>| {
                id.and_then(|id| tenants.iter().find(|t| t.id == id).map(|t| t.slug.clone()))
                    .unwrap_or_else(|| "-".to_owned())
            };
            if json {
                print_json(&json!(users
                    .iter()
                    .map(|u| json!({ "id": u.id, "email": u.email, "role": u.role.as_str(),
                        "tenant": u.tenant_id.map(|_| slug(u.tenant_id)), "mfa": u.has_mfa(), "disabled": u.is_disabled }))
                    .collect::<Vec<_>>()));
            } else {
                println!(
                    "{:<36} {:<20} {:<20} {:<5}",
                    "EMAIL", "ROLE", "TENANT", "MFA"
                );
                for u in &users {
                    println!(
                        "{:<36} {:<20} {:<20} {:<5}",
                        u.email,
                        u.role.as_str(),
                        slug(u.tenant_id),
                        if u.has_mfa() { "on" } else { "off" }
                    );
                }
                println!("{} user(s).", users.len());
            }
        }
    }
    Ok(())
}

/// `garrison token create`: the token goes to standard output alone, so
/// that `TOKEN=$(garrison token create ...)` works; the rest to stderr.
pub async fn token(config: &Config, cmd: TokenCommand) -> Result<()> {
    let app = open_app(config).await?;
    let TokenCommand::Create {
        user,
        name,
        expires_days,
        json,
    } = cmd;
    let issued = app
        .create_token_for(&operator(), &user, &name, expires_days)
        .await
        .map_err(|e| match e {
            garrison_app::AppError::NotFound => {
                anyhow::anyhow!("no user has the e-mail address `{user}`")
            }
            other => other.into(),
        })?;
    if json {
        print_json(&json!({
            "id": issued.token.id, "name": issued.token.name, "user": user,
            "token": issued.secret.expose(),
            "expires_at": issued.token.expires_at.map(|t| t.to_rfc3339()),
        }));
    } else {
        eprintln!(
            "Created token `{}` for {user}. It is shown only now:",
            issued.token.name
        );
        println!("{}", issued.secret.expose());
    }
    Ok(())
}

/// The tenant with `slug`, or an error that says how to find the slugs.
pub(crate) async fn tenant_of(
    app: &garrison_app::App,
    slug: &str,
) -> Result<garrison_core::model::Tenant> {
    app.tenant_by_slug(&operator(), slug)
        .await
        .map_err(|e| match e {
            garrison_app::AppError::NotFound => {
                anyhow::anyhow!("no tenant has the slug `{slug}`; see garrison tenant list")
            }
            other => other.into(),
        })
}

/// `garrison ingest-token create|list|revoke`. As for API tokens, the
/// secret goes to standard output alone.
pub async fn ingest_token(config: &Config, cmd: IngestTokenCommand) -> Result<()> {
    let app = open_app(config).await?;
    match cmd {
        IngestTokenCommand::Create {
            tenant,
            name,
            format,
            allow,
            json,
        } => {
            let t = tenant_of(&app, &tenant).await?;
            let issued = app
                .create_ingest_token(
                    &operator(),
                    t.id,
                    &garrison_app::events::http::NewIngestToken {
                        name,
                        format,
                        allow,
                    },
                )
                .await?;
            let tok = &issued.token;
            if json {
                print_json(&json!({
                    "id": tok.id, "tenant": t.slug, "name": tok.name,
                    "source_id": format!("http:{}", tok.name), "format": tok.format,
                    "allow": tok.allow, "token": issued.secret.expose(),
                }));
            } else {
                eprintln!(
                    "Created ingest token `{}` for {} (format {}, from {}). Send with
                       curl -H 'Authorization: Bearer TOKEN' --data-binary @events.log https://HOST/ingest/v1/events
                     It is shown only now:",
                    tok.name,
                    t.slug,
                    tok.format,
                    if tok.allow.is_empty() {
                        "anywhere".to_owned()
                    } else {
                        tok.allow.join(", ")
                    }
                );
                println!("{}", issued.secret.expose());
            }
        }
        IngestTokenCommand::List { tenant, json } => {
            let only = match tenant {
                Some(slug) => Some(tenant_of(&app, &slug).await?.id),
                None => None,
            };
            let tokens = app.list_ingest_tokens(&operator(), only).await?;
            let tenants = app.list_tenants(&operator()).await?;
            let slug = |id| {
                tenants
                    .iter()
                    .find(|t| t.id == id)
                    .map_or_else(|| id.to_string(), |t| t.slug.clone())
            };
            if json {
                let rows: Vec<_> = tokens
                    .iter()
                    .map(|t| {
                        json!({
                            "id": t.id, "tenant": slug(t.tenant_id), "name": t.name,
                            "prefix": t.prefix, "format": t.format, "allow": t.allow,
                            "created_at": t.created_at.to_rfc3339(),
                            "last_used_at": t.last_used_at.map(|x| x.to_rfc3339()),
                            "revoked_at": t.revoked_at.map(|x| x.to_rfc3339()),
                        })
                    })
                    .collect();
                print_json(&json!(rows));
            } else {
                for t in &tokens {
                    println!(
                        "{}  {:<16} http:{:<24} {:<8} {}…  {}",
                        t.id,
                        slug(t.tenant_id),
                        t.name,
                        t.format,
                        t.prefix,
                        if t.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "live"
                        }
                    );
                }
                println!("{} ingest token(s).", tokens.len());
            }
        }
        IngestTokenCommand::Revoke { tenant, id } => {
            let t = tenant_of(&app, &tenant).await?;
            let token_id = id.parse().map_err(|_| {
                anyhow::anyhow!("`{id}` is not a token id; see garrison ingest-token list")
            })?;
            app.revoke_ingest_token(&operator(), t.id, token_id)
                .await
                .map_err(|e| match e {
                    garrison_app::AppError::NotFound => anyhow::anyhow!(
                        "tenant {} has no ingest token {id}; see garrison ingest-token list",
                        t.slug
                    ),
                    other => other.into(),
                })?;
            eprintln!("Revoked ingest token {id} of {}.", t.slug);
        }
    }
    Ok(())
}

/// `garrison audit verify`: exit status 0 when intact, 1 when not.
///
/// After an intact verification the head is kept as an anchor in
/// `DIR/audit.anchor` (sealed with the server key); the next verification
/// requires the chain to still hold it, so that deleting records and
/// rewinding the chain head together is found too.
pub async fn audit(config: &Config, cmd: AuditCommand) -> Result<bool> {
    let app = open_app(config).await?;
    let AuditCommand::Verify { json } = cmd;
    let anchor_path = config.data_dir.join("audit.anchor");
    let anchor = match std::fs::read_to_string(&anchor_path) {
        Ok(line) => Some(line),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => bail!("cannot read {}: {e}", anchor_path.display()),
    };
    let report = app.verify_audit(&operator(), anchor.as_deref()).await?;
    if let Some(line) = app.audit_anchor(&report) {
        let tmp = anchor_path.with_extension("anchor.tmp");
        std::fs::write(&tmp, format!("{line}\n"))?;
        std::fs::rename(&tmp, &anchor_path)?;
    }
    if json {
        print_json(&serde_json::to_value(&report)?);
    } else if report.is_intact() {
        println!(
            "The audit chain is intact: {} record(s) verified.",
            report.checked
        );
    } else {
        eprintln!(
            "The audit chain is BROKEN: {} problem(s) in {} record(s):",
            report.faults.len(),
            report.checked
        );
        for f in &report.faults {
            eprintln!("  {f}");
        }
    }
    Ok(report.is_intact())
}
