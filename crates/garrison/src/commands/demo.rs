//! `garrison demo`: a demo MSSP with two customers, served at once.
//! Idempotent: what exists is kept, and the admin gets a fresh one-time
//! password on every run so that there is always a way in.

use anyhow::Result;
use garrison_app::App;
use garrison_app::admin::CreateUser;
use garrison_core::{Principal, Role, Secret, TenantId};

use crate::commands::serve::{self, Roles};
use crate::config::Config;
use crate::runtime;

pub const ADMIN_EMAIL: &str = "admin@mssp.example";

struct DemoTenant {
    slug: &'static str,
    name: &'static str,
    users: &'static [(&'static str, Role)],
}

const TENANTS: &[DemoTenant] = &[
    DemoTenant {
        slug: "acme",
        name: "Acme Manufacturing",
        users: &[
            ("it-lead@acme.example", Role::CustomerAdmin),
            ("oncall@acme.example", Role::CustomerResponder),
        ],
    },
    DemoTenant {
        slug: "globex",
        name: "Globex Health",
        users: &[
            ("ciso@globex.example", Role::CustomerAdmin),
            ("auditor@globex.example", Role::CustomerViewer),
        ],
    },
];

const STAFF: &[(&str, Role)] = &[
    ("analyst@mssp.example", Role::MsspAnalyst),
    ("engineer@mssp.example", Role::MsspEngineer),
];

async fn ensure_user(
    app: &App,
    op: &Principal,
    email: &str,
    role: Role,
    tenant: Option<TenantId>,
) -> Result<Option<Secret<String>>> {
    match app.user_by_email(op, email).await {
        Ok(_) => Ok(None),
        Err(garrison_app::AppError::NotFound) => {
            let created = app
                .create_user(
                    op,
                    CreateUser {
                        email: email.to_owned(),
                        display_name: None,
                        role,
                        tenant,
                    },
                )
                .await?;
            Ok(Some(created.one_time_password))
        }
        Err(e) => Err(e.into()),
    }
}

/// Creates what is missing and returns the admin's one-time password.
pub async fn seed(app: &App) -> Result<Secret<String>> {
    let op = Principal::system("demo");
    let mut tenant_ids = Vec::new();
    for t in TENANTS {
        let tenant = match app.tenant_by_slug(&op, t.slug).await {
            Ok(existing) => existing,
            Err(garrison_app::AppError::NotFound) => app.create_tenant(&op, t.slug, t.name).await?,
            Err(e) => return Err(e.into()),
        };
        tenant_ids.push(tenant.id);
        for (email, role) in t.users {
            ensure_user(app, &op, email, *role, Some(tenant.id)).await?;
        }
    }
    for (email, role) in STAFF {
        ensure_user(app, &op, email, *role, None).await?;
        let staff = app.user_by_email(&op, email).await?;
        for t in &tenant_ids {
            app.assign_staff(&op, staff.id, *t).await?;
        }
    }
    match ensure_user(app, &op, ADMIN_EMAIL, Role::MsspAdmin, None).await? {
        Some(pw) => Ok(pw),
        None => {
            let admin = app.user_by_email(&op, ADMIN_EMAIL).await?;
            Ok(app.reset_password(&op, admin.id).await?)
        }
    }
}

/// `garrison demo`.
pub async fn demo(config: &Config) -> Result<()> {
    let opened = runtime::open(config).await?;
    let prepared = serve::prepare(config, &opened)?;
    let password = seed(&prepared.app).await?;
    println!("Garrison demo is ready.");
    println!();
    println!("  Portal:    {}", prepared.url());
    println!("  Login:     {ADMIN_EMAIL}");
    println!("  Password:  {}", password.expose());
    println!();
    println!("The password works once: at first login you choose your own and set up MFA");
    println!("with an authenticator app. Demo tenants: acme (Acme Manufacturing) and globex");
    println!("(Globex Health), with their users; MSSP analyst and engineer are assigned to both.");
    if let Some(fp) = prepared.fingerprint() {
        println!();
        println!("The certificate is self-signed; your browser will ask you to accept it.");
        println!("Its SHA-256 fingerprint is {fp}");
    }
    println!();
    println!(
        "Garrison is listening on {} (Ctrl-C stops it).",
        prepared.url()
    );
    serve::run(config, prepared, Roles::ALL).await
}
