//! Tenant isolation, route by route.
//!
//! Every route of the router is called by every role against its own
//! tenant's objects, another tenant's and ids that do not exist. Another
//! tenant's object and a missing one must both answer 404 (never 403, so
//! that nobody learns what exists); lists and pages must never show another
//! tenant's data; and nothing may change in the other tenant. A route
//! without an entry in the table below fails the test, so a new route
//! cannot skip this check.

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use garrison_core::model::{Tenant, User};
use garrison_core::{Role, TokenId};
use garrison_testkit::{SignedIn, TestApp, TestClient};
use garrison_web::{Access, route_table};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Own,
    Other,
    Missing,
}

struct Actor {
    role: Role,
    session: SignedIn,
    api: TestClient,
    /// A second token of the actor's, for the own-token routes (revoking
    /// the one `api` uses would sign the actor out).
    spare_token: TokenId,
}

struct Fx {
    t: TestApp,
    a: Tenant,
    b: Tenant,
    target_a: User,
    target_b: User,
    tok_a: TokenId,
    tok_b: TokenId,
    staff_x: User,
    actors: Vec<Actor>,
    inv_a: Inventory,
    inv_b: Inventory,
}

/// One tenant's inventory objects.
struct Inventory {
    asset: String,
    finding: String,
    import: String,
    range: String,
    event: String,
    ingest_token: String,
    offense: String,
    ticket: String,
}

/// Ids put into a request.
struct Ids {
    tenant: String,
    user: String,
    staff: String,
    token: String,
    own_token: String,
    asset: String,
    finding: String,
    import: String,
    range: String,
    event: String,
    ingest_token: String,
    offense: String,
    ticket: String,
}

fn random() -> String {
    garrison_core::UserId::new().to_string()
}

impl Fx {
    fn ids(&self, actor: &Actor, target: Target) -> Ids {
        match target {
            Target::Own => Ids {
                tenant: self.a.id.to_string(),
                user: self.target_a.id.to_string(),
                staff: self.staff_x.id.to_string(),
                token: self.tok_a.to_string(),
                own_token: actor.spare_token.to_string(),
                asset: self.inv_a.asset.clone(),
                finding: self.inv_a.finding.clone(),
                import: self.inv_a.import.clone(),
                range: self.inv_a.range.clone(),
                event: self.inv_a.event.clone(),
                ingest_token: self.inv_a.ingest_token.clone(),
                offense: self.inv_a.offense.clone(),
                ticket: self.inv_a.ticket.clone(),
            },
            Target::Other => Ids {
                tenant: self.b.id.to_string(),
                user: self.target_b.id.to_string(),
                staff: self.staff_x.id.to_string(),
                token: self.tok_b.to_string(),
                own_token: self.tok_b.to_string(),
                asset: self.inv_b.asset.clone(),
                finding: self.inv_b.finding.clone(),
                import: self.inv_b.import.clone(),
                range: self.inv_b.range.clone(),
                event: self.inv_b.event.clone(),
                ingest_token: self.inv_b.ingest_token.clone(),
                offense: self.inv_b.offense.clone(),
                ticket: self.inv_b.ticket.clone(),
            },
            Target::Missing => Ids {
                tenant: random(),
                user: random(),
                staff: random(),
                token: random(),
                own_token: random(),
                asset: random(),
                finding: random(),
                import: random(),
                range: random(),
                event: random(),
                ingest_token: random(),
                offense: random(),
                ticket: random(),
            },
        }
    }

    /// Strings that must never appear in what a non-admin of tenant A sees.
    fn b_markers(&self) -> Vec<String> {
        vec![
            self.b.id.to_string(),
            self.b.name.clone(),
            self.target_b.email.clone(),
            self.target_b.id.to_string(),
            self.tok_b.to_string(),
            self.inv_b.asset.clone(),
            self.inv_b.finding.clone(),
            self.inv_b.import.clone(),
            self.inv_b.range.clone(),
            self.inv_b.event.clone(),
            self.inv_b.ingest_token.clone(),
            "bravo-sensor".to_owned(),
            "bravo-event".to_owned(),
            "bravo-host".to_owned(),
            "10.66.0.".to_owned(),
        ]
    }
}

async fn fixture() -> Fx {
    let t = TestApp::new().await;
    let a = t.tenant("alpha").await;
    let b = t.tenant("bravo").await;
    let (target_a, _) = t
        .user("target@alpha.test", Role::CustomerViewer, Some(a.id))
        .await;
    let (target_b, _) = t
        .user("target@bravo.test", Role::CustomerViewer, Some(b.id))
        .await;
    let (staff_x, _) = t.user("staff-x@mssp.test", Role::MsspAnalyst, None).await;
    let op = t.operator();
    for tenant in [a.id, b.id] {
        t.app
            .assign_staff(&op, staff_x.id, tenant)
            .await
            .expect("assign");
    }
    let tok_a = t
        .app
        .create_token_for(&op, &target_a.email, "a", None)
        .await
        .expect("token")
        .token
        .id;
    let tok_b = t
        .app
        .create_token_for(&op, &target_b.email, "b", None)
        .await
        .expect("token")
        .token
        .id;

    let mut actors = Vec::new();
    for role in Role::ALL {
        let email = format!("{}@walk.test", role.as_str());
        let tenant = (!role.is_mssp()).then_some(a.id);
        let session = t.signed_in(&email, role, tenant).await;
        if matches!(role, Role::MsspAnalyst | Role::MsspEngineer) {
            t.app
                .assign_staff(&op, session.user.id, a.id)
                .await
                .expect("assign");
        }
        let api = t.client().with_bearer(&t.token_for(&email).await);
        let spare_token = t
            .app
            .create_token_for(&op, &email, "spare", None)
            .await
            .expect("token")
            .token
            .id;
        actors.push(Actor {
            role,
            session,
            api,
            spare_token,
        });
    }
    let inv_a = inventory(&t, a.id, "alpha-host", "10.55.0.5", "10.55.0.0/16").await;
    let inv_b = inventory(&t, b.id, "bravo-host", "10.66.0.5", "10.66.0.0/16").await;
    ingestion(&t, a.id, "alpha", "10.55.0.0/16").await;
    ingestion(&t, b.id, "bravo", "10.66.0.0/16").await;
    Fx {
        inv_a,
        inv_b,
        t,
        a,
        b,
        target_a,
        target_b,
        tok_a,
        tok_b,
        staff_x,
        actors,
    }
}

/// A scan with one host and one finding, as Nessus writes it.
fn nessus(host: &str, ip: &str) -> String {
    format!(
        "<?xml version=\"1.0\" ?>\n<NessusClientData_v2><Report name=\"walk\"><ReportHost name=\"{host}\"><HostProperties>\
         <tag name=\"host-ip\">{ip}</tag><tag name=\"host-fqdn\">{host}.corp.test</tag></HostProperties>\
         <ReportItem port=\"443\" svc_name=\"www\" protocol=\"tcp\" severity=\"3\" pluginID=\"1001\" pluginName=\"Old TLS\">\
         <cvss3_base_score>7.5</cvss3_base_score></ReportItem></ReportHost></Report></NessusClientData_v2>\n"
    )
}

/// Imports a one-host scan into a tenant and adds a range: ids of the
/// asset, finding, import and range.
async fn inventory(
    t: &TestApp,
    tenant: garrison_core::TenantId,
    host: &str,
    ip: &str,
    cidr: &str,
) -> Inventory {
    let op = t.operator();
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("scan.nessus");
    std::fs::write(&path, nessus(host, ip)).expect("write");
    let file = garrison_app::inventory::ImportFile {
        tenant,
        path,
        file_name: "scan.nessus".to_owned(),
        format: None,
        zone: None,
        kind: garrison_core::asset::ImportKind::Scan,
        delete_after: false,
    };
    let import = t
        .app
        .run_import(&op, file, std::sync::Arc::new(garrison_scan_progress()))
        .await
        .expect("import");
    let query = garrison_store::AssetQuery {
        tenant: Some(tenant),
        ..Default::default()
    };
    let asset = t.app.list_assets(&op, &query).await.expect("assets").items[0]
        .asset
        .id;
    let fq = garrison_store::FindingQuery {
        tenant: Some(tenant),
        ..Default::default()
    };
    let finding = t.app.list_findings(&op, &fq).await.expect("findings").items[0].id;
    let range = t
        .app
        .create_range(&op, tenant, cidr, "site", None, None)
        .await
        .expect("range")
        .id;
    let event = event(t, tenant, host, ip).await;
    let slug = host.split('-').next().unwrap_or(host);
    let offense = offense(t, tenant, &event, slug).await;
    let ingest_token = t
        .app
        .create_ingest_token(
            &op,
            tenant,
            &garrison_app::events::http::NewIngestToken {
                name: format!("{slug}-sensor"),
                ..Default::default()
            },
        )
        .await
        .expect("ingest token")
        .token
        .id
        .to_string();
    Inventory {
        asset: asset.to_string(),
        finding: finding.to_string(),
        import: import.id.to_string(),
        range: range.to_string(),
        event,
        ingest_token,
        ticket: ticket(t, tenant, Some(&offense), slug).await,
        offense,
    }
}

/// An offense raised on the tenant's event, as the pipeline would record
/// it (a system path); its title and key carry the tenant's marker.
async fn offense(t: &TestApp, tenant: garrison_core::TenantId, event: &str, slug: &str) -> String {
    use garrison_core::Clock as _;
    use garrison_core::offense::{
        Breakdown, Detector, DetectorKind, NewAlert, OffenseKey, Part, Weights,
    };
    let alert = NewAlert {
        tenant_id: tenant,
        event_id: event.parse().expect("event id"),
        at: t.clock.now(),
        detector: Detector {
            kind: DetectorKind::Sensor,
            key: format!("suricata:{slug}-rule"),
            title: format!("{slug}-event offense"),
        },
        key: OffenseKey {
            field: "host.name".to_owned(),
            value: format!("{slug}-event-host"),
        },
        assets: Vec::new(),
        breakdown: Breakdown::new(
            Part::of(5.0, format!("{slug}-event severity")),
            Part::of(5.0, "signature"),
            Part::of(3.0, "no asset"),
            Weights::default(),
        ),
        contributing: Vec::new(),
    };
    let rec = t
        .store
        .record_alerts(&[alert], 3_600_000, t.clock.now())
        .await
        .expect("offense");
    rec.opened[0].to_string()
}

/// A new security-incident ticket of the tenant (escalated from
/// `offense` when given), stored directly (a system path); its id.
async fn ticket(
    t: &TestApp,
    tenant: garrison_core::TenantId,
    offense: Option<&str>,
    slug: &str,
) -> String {
    use garrison_core::Clock as _;
    use garrison_core::ticket::{Milestones, OwnerPlan, Priority, Status, Ticket, TicketType};
    let now = t.clock.now();
    let ticket = Ticket {
        id: garrison_core::TicketId::new(),
        tenant_id: tenant,
        ticket_type: TicketType::SecurityIncident,
        title: format!("{slug}-event ticket"),
        description: format!("{slug}-event escalated"),
        priority: Priority::P2,
        priority_reason: None,
        status: Status::New,
        plan: OwnerPlan::seeded(TicketType::SecurityIncident),
        offense_id: offense.map(|o| o.parse().expect("offense id")),
        milestones: Milestones::default(),
        created_by: None,
        created_at: now,
        updated_at: now,
    };
    let scope = garrison_core::Principal::system("walk")
        .scope(tenant)
        .expect("scope");
    let audit = garrison_core::audit::AuditEntry::new(
        now,
        garrison_core::audit::Action::TicketOpened,
        "walk",
    );
    t.store
        .create_ticket(&scope, &ticket, &audit)
        .await
        .expect("ticket");
    ticket.id.to_string()
}

/// Stores one event for the tenant, as the ingest pipeline would (a
/// system path), a minute old; its id. Its fields and message carry the
/// tenant's host name (`bravo-…` is a marker of tenant B) and address.
async fn event(t: &TestApp, tenant: garrison_core::TenantId, host: &str, ip: &str) -> String {
    use garrison_core::Clock as _;
    use garrison_core::event::{Event, Fields, Value};
    let now = t.clock.now();
    let slug = host.split('-').next().unwrap_or(host);
    let mut fields = Fields::new();
    fields.set("source.ip", Value::Ip(ip.parse().expect("ip")));
    fields.set("host.name", format!("{slug}-event-host"));
    let e = Event {
        id: garrison_core::EventId::new(),
        tenant_id: tenant,
        timestamp: now.minus(std::time::Duration::from_secs(60)),
        received_at: now,
        source_id: "walk".to_owned(),
        parser: "rfc5424".to_owned(),
        severity: 40,
        fields,
        original: format!("<34>1 - {host} sshd - - - {slug}-event login failed"),
    };
    assert_eq!(
        t.store
            .insert_events(std::slice::from_ref(&e))
            .await
            .expect("events"),
        1
    );
    e.id.to_string()
}

/// Ingestion the ingestion page shows: a listener registered for the
/// tenant (its allowlist names the tenant's network) and two lines through
/// the pipeline, one stored and one failed that carries the tenant's
/// marker (`bravo-event` for tenant B).
async fn ingestion(t: &TestApp, tenant: garrison_core::TenantId, slug: &str, net: &str) {
    use garrison_app::events::ingest::Format;
    use garrison_app::events::observe::{ListenerInfo, ListenerKind};
    use garrison_app::events::pipeline::{Bus, RawLine};
    use garrison_core::Clock as _;
    let source = format!("{slug}-listener");
    t.app.register_listener(ListenerInfo {
        id: source.clone(),
        tenant,
        transport: ListenerKind::Udp,
        addr: "127.0.0.1:5514".to_owned(),
        format: Format::Rfc5424,
        allow: vec![net.to_owned()],
        stats: std::sync::Arc::default(),
    });
    let pipeline = t.app.pipeline();
    let receipt = pipeline.receipt();
    let lines = [
        format!("<34>1 - {slug}-fw sshd - - - {slug}-event accepted"),
        format!("<{slug}-event> not syslog"),
    ];
    let batch = lines
        .into_iter()
        .zip(0..)
        .map(|(line, i)| RawLine {
            id: garrison_core::EventId::new(),
            tenant,
            source_id: source.clone(),
            received_at: t.clock.now(),
            format: Format::Rfc5424,
            line,
            receipt: Some(receipt.tag(i)),
        })
        .collect();
    pipeline
        .bus()
        .publish(tenant, batch)
        .await
        .expect("publish");
    let counts = receipt.wait_for(2).await;
    assert_eq!((counts.stored, counts.failed), (1, 1), "{counts:?}");
}

fn garrison_scan_progress() -> garrison_app::inventory::Progress {
    garrison_app::inventory::Progress::default()
}

/// A request body.
enum Body {
    None,
    Json(Value),
    Form(Vec<(&'static str, String)>),
    /// Form fields and one file.
    Multipart(Vec<(&'static str, String)>, &'static str, String),
}

const BOUNDARY: &str = "garrison-walk-boundary";

fn multipart(fields: &[(&'static str, String)], file_name: &str, content: &str) -> Vec<u8> {
    let mut out = String::new();
    for (k, v) in fields {
        out.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    out.push_str(&format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n{content}\r\n--{BOUNDARY}--\r\n"
    ));
    out.into_bytes()
}

type Own = Box<dyn Fn(Role) -> u16>;
type MakeBody = Box<dyn Fn(&Ids, u32) -> Body>;

/// What one route must do.
struct Case {
    /// Appended to the path (a query string), with the same placeholders.
    query: &'static str,
    /// Whether the request names a tenant's object (in the path, query or
    /// body), so that "other" and "missing" apply.
    names_objects: bool,
    /// The status for the actor's own tenant, by role.
    own: Own,
    body: MakeBody,
    /// For routes about the actor's own things (their tokens): another's
    /// thing is "not found" even for the MSSP admin.
    own_things: bool,
    /// The route deletes its object: give each request a fresh one.
    fresh: Option<Fresh>,
}

#[derive(Clone, Copy)]
enum Fresh {
    Asset,
    Range,
    /// A new ticket of tenant A's (status moves are one-way).
    Ticket,
}

fn all(code: u16) -> Own {
    Box::new(move |_| code)
}

/// `ok` for the listed roles, `denied` for the others.
fn only(roles: &'static [Role], ok: u16, denied: u16) -> Own {
    Box::new(move |r| if roles.contains(&r) { ok } else { denied })
}

const ADMINS: &[Role] = &[Role::MsspAdmin, Role::CustomerAdmin];
const READERS: &[Role] = &[
    Role::MsspAdmin,
    Role::MsspAnalyst,
    Role::MsspEngineer,
    Role::CustomerAdmin,
];
const MSSP_ADMIN: &[Role] = &[Role::MsspAdmin];
/// Roles that feed events and manage ingest sources.
const INGESTERS: &[Role] = &[Role::MsspAdmin, Role::MsspEngineer];
const MSSP_STAFF: &[Role] = &[Role::MsspAdmin, Role::MsspAnalyst, Role::MsspEngineer];
/// Roles that may change the inventory.
const MANAGERS: &[Role] = &[
    Role::MsspAdmin,
    Role::MsspAnalyst,
    Role::MsspEngineer,
    Role::CustomerAdmin,
    Role::CustomerResponder,
];
/// Roles that may change a finding's status.
const TRIAGERS: &[Role] = &[
    Role::MsspAdmin,
    Role::MsspAnalyst,
    Role::CustomerAdmin,
    Role::CustomerResponder,
];
/// Roles that triage offenses.
const OFFENSE_TRIAGERS: &[Role] = &[Role::MsspAdmin, Role::MsspAnalyst];
/// Who may acknowledge a security incident under its seeded plan: MSSP
/// analysts research, the customer's responders remediate, both sides'
/// admins.
const INCIDENT_WORKERS: &[Role] = &[
    Role::MsspAdmin,
    Role::MsspAnalyst,
    Role::CustomerAdmin,
    Role::CustomerResponder,
];
/// Roles that enrolled MFA at first login (required for them).
const WITH_MFA: &[Role] = &[
    Role::MsspAdmin,
    Role::MsspAnalyst,
    Role::MsspEngineer,
    Role::CustomerAdmin,
];

fn no_body() -> MakeBody {
    Box::new(|_, _| Body::None)
}

fn case(names_objects: bool, own: Own) -> Case {
    Case {
        query: "",
        names_objects,
        own,
        body: no_body(),
        own_things: false,
        fresh: None,
    }
}

impl Case {
    fn body(mut self, f: impl Fn(&Ids, u32) -> Body + 'static) -> Self {
        self.body = Box::new(f);
        self
    }

    fn query(mut self, q: &'static str) -> Self {
        self.query = q;
        self
    }

    fn own_things(mut self) -> Self {
        self.own_things = true;
        self
    }

    fn fresh(mut self, f: Fresh) -> Self {
        self.fresh = Some(f);
        self
    }
}

fn form(fields: &[(&'static str, &str)]) -> Body {
    Body::Form(fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect())
}

/// The table: one entry per signed-in route (API and portal).
fn cases() -> BTreeMap<(Method, &'static str), Case> {
    use Method as M;
    let mut m = BTreeMap::new();
    let mut add = |method: Method, path: &'static str, c: Case| {
        assert!(
            m.insert((method, path), c).is_none(),
            "duplicate case {path}"
        );
    };
    // API
    add(M::GET, "/api/v1/me", case(false, all(200)));
    add(M::GET, "/api/v1/tenants", case(false, all(200)));
    add(
        M::POST,
        "/api/v1/tenants",
        case(false, only(MSSP_ADMIN, 201, 403))
            .body(|_, n| Body::Json(json!({"slug": format!("new-{n}"), "name": "New"}))),
    );
    add(M::GET, "/api/v1/tenants/{tenant_id}", case(true, all(200)));
    add(
        M::GET,
        "/api/v1/tenants/{tenant_id}/event-retention",
        case(true, all(200)),
    );
    add(
        M::PUT,
        "/api/v1/tenants/{tenant_id}/event-retention",
        case(true, only(ADMINS, 200, 403)).body(|_, _| Body::Json(json!({"days": 90}))),
    );
    add(
        M::POST,
        "/tenants/{tenant_id}/event-retention",
        case(true, only(ADMINS, 303, 403)).body(|_, _| form(&[("days", "90")])),
    );
    add(
        M::PATCH,
        "/api/v1/tenants/{tenant_id}",
        case(true, only(ADMINS, 200, 403)).body(|_, _| Body::Json(json!({"name": "alpha Ltd"}))),
    );
    add(
        M::GET,
        "/api/v1/tenants/{tenant_id}/staff",
        case(true, only(READERS, 200, 403)),
    );
    // MSSP staff are visible to the MSSP admin only, so for everyone else
    // the staff member in the path is "not found".
    add(
        M::PUT,
        "/api/v1/tenants/{tenant_id}/staff/{user_id}",
        case(true, only(MSSP_ADMIN, 204, 404)),
    );
    add(
        M::DELETE,
        "/api/v1/tenants/{tenant_id}/staff/{user_id}",
        case(true, only(MSSP_ADMIN, 204, 404)),
    );
    add(
        M::GET,
        "/api/v1/users",
        case(true, only(READERS, 200, 403)).query("?tenant={tenant_id}"),
    );
    add(
        M::POST,
        "/api/v1/users",
        case(true, only(ADMINS, 201, 403)).body(|ids, n| {
            Body::Json(json!({"email": format!("new{n}@alpha.test"), "role": "customer-viewer", "tenant_id": ids.tenant}))
        }),
    );
    add(
        M::GET,
        "/api/v1/users/{user_id}",
        case(true, only(READERS, 200, 403)),
    );
    add(
        M::PATCH,
        "/api/v1/users/{user_id}",
        case(true, only(ADMINS, 200, 403))
            .body(|_, _| Body::Json(json!({"display_name": "Target"}))),
    );
    add(
        M::POST,
        "/api/v1/users/{user_id}/password-reset",
        case(true, only(ADMINS, 200, 403)),
    );
    add(
        M::POST,
        "/api/v1/users/{user_id}/mfa-reset",
        case(true, only(ADMINS, 204, 403)),
    );
    add(
        M::GET,
        "/api/v1/users/{user_id}/tokens",
        case(true, only(ADMINS, 200, 403)),
    );
    add(
        M::DELETE,
        "/api/v1/users/{user_id}/tokens/{token_id}",
        case(true, only(ADMINS, 204, 403)),
    );
    add(M::GET, "/api/v1/tokens", case(false, all(200)));
    // Tokens are created from a portal session, never with another token.
    add(
        M::POST,
        "/api/v1/tokens",
        case(false, all(403)).body(|_, _| Body::Json(json!({"name": "walk"}))),
    );
    add(
        M::DELETE,
        "/api/v1/tokens/{token_id}",
        case(true, all(204)).own_things(),
    );
    add(
        M::GET,
        "/api/v1/audit",
        case(true, only(ADMINS, 200, 403)).query("?tenant={tenant_id}"),
    );
    // Inventory API
    add(
        M::GET,
        "/api/v1/assets",
        case(true, all(200)).query("?tenant={tenant_id}"),
    );
    add(
        M::GET,
        "/api/v1/assets.csv",
        case(true, all(200)).query("?tenant={tenant_id}"),
    );
    add(M::GET, "/api/v1/asset-template.csv", case(false, all(200)));
    add(
        M::POST,
        "/api/v1/tenants/{tenant_id}/assets",
        case(true, only(MANAGERS, 201, 403)).body(|_, n| {
            Body::Json(json!({"hostname": format!("walk-{n}"), "criticality": "high"}))
        }),
    );
    add(
        M::POST,
        "/api/v1/tenants/{tenant_id}/assets/bulk",
        case(true, only(MANAGERS, 200, 403))
            .body(|ids, _| Body::Json(json!({"asset_ids": [ids.asset], "add_tags": ["walked"]}))),
    );
    add(
        M::GET,
        "/api/v1/tenants/{tenant_id}/assets/{asset_id}",
        case(true, all(200)),
    );
    add(
        M::PATCH,
        "/api/v1/tenants/{tenant_id}/assets/{asset_id}",
        case(true, only(MANAGERS, 200, 403)).body(|_, _| Body::Json(json!({"owner": "Walk Team"}))),
    );
    add(
        M::DELETE,
        "/api/v1/tenants/{tenant_id}/assets/{asset_id}",
        case(true, only(MANAGERS, 204, 403)).fresh(Fresh::Asset),
    );
    add(
        M::GET,
        "/api/v1/findings",
        case(true, all(200)).query("?tenant={tenant_id}"),
    );
    add(
        M::GET,
        "/api/v1/findings.csv",
        case(true, all(200)).query("?tenant={tenant_id}"),
    );
    add(
        M::POST,
        "/api/v1/tenants/{tenant_id}/findings/{finding_id}/status",
        case(true, only(TRIAGERS, 200, 403))
            .body(|_, _| Body::Json(json!({"status": "false-positive", "reason": "walk"}))),
    );
    add(
        M::GET,
        "/api/v1/imports",
        case(true, all(200)).query("?tenant={tenant_id}"),
    );
    add(M::GET, "/api/v1/imports/{import_id}", case(true, all(200)));
    add(
        M::POST,
        "/api/v1/tenants/{tenant_id}/imports",
        case(true, only(MANAGERS, 202, 403)).body(|_, n| {
            Body::Multipart(
                vec![("kind", "assets".to_owned())],
                "assets.csv",
                format!("hostname,ip\nupload-{n},10.55.1.1\n"),
            )
        }),
    );
    add(
        M::GET,
        "/api/v1/tenants/{tenant_id}/risk-weights",
        case(true, all(200)),
    );
    add(
        M::PUT,
        "/api/v1/tenants/{tenant_id}/risk-weights",
        case(true, only(ADMINS, 200, 403)).body(|_, _| Body::Json(json!({"kev": 3.0}))),
    );
    add(
        M::GET,
        "/api/v1/tenants/{tenant_id}/ranges",
        case(true, all(200)),
    );
    add(
        M::POST,
        "/api/v1/tenants/{tenant_id}/ranges",
        case(true, only(MANAGERS, 201, 403)).body(|_, n| {
            Body::Json(
                json!({"cidr": format!("172.{}.{}.0/24", 16 + n / 250, n % 250), "zone": "walk"}),
            )
        }),
    );
    add(
        M::DELETE,
        "/api/v1/tenants/{tenant_id}/ranges/{range_id}",
        case(true, only(MANAGERS, 204, 403)).fresh(Fresh::Range),
    );
    // Events API: every role reads its tenants' events.
    add(
        M::GET,
        "/api/v1/events",
        case(true, all(200)).query("?tenant={tenant_id}"),
    );
    add(
        M::GET,
        "/api/v1/events/counts",
        case(true, all(200)).query("?tenant={tenant_id}&field=host.name"),
    );
    add(M::GET, "/api/v1/events/{event_id}", case(true, all(200)));
    // Offenses: every role reads its tenants' offenses.
    add(
        M::GET,
        "/api/v1/offenses",
        case(true, all(200)).query("?tenant={tenant_id}"),
    );
    add(
        M::GET,
        "/api/v1/offenses/{offense_id}",
        case(true, all(200)),
    );
    // Triage: MSSP admins and analysts.
    add(
        M::POST,
        "/api/v1/offenses/{offense_id}/assign",
        case(true, only(OFFENSE_TRIAGERS, 200, 403))
            .body(|_, _| Body::Json(json!({"user_id": null}))),
    );
    add(
        M::POST,
        "/api/v1/offenses/{offense_id}/close",
        case(true, only(OFFENSE_TRIAGERS, 200, 403))
            .body(|_, _| Body::Json(json!({"resolution": "benign", "reason": "walk"}))),
    );
    add(
        M::POST,
        "/api/v1/offenses/{offense_id}/reopen",
        case(true, only(OFFENSE_TRIAGERS, 200, 403)),
    );
    add(
        M::POST,
        "/api/v1/offenses/{offense_id}/escalate",
        case(true, only(OFFENSE_TRIAGERS, 200, 403))
            .body(|_, _| Body::Json(json!({"reason": "walk"}))),
    );
    add(
        M::POST,
        "/api/v1/offenses/{offense_id}/comments",
        case(true, only(OFFENSE_TRIAGERS, 201, 403))
            .body(|_, _| Body::Json(json!({"body": "walk", "shared": false}))),
    );
    add(
        M::GET,
        "/api/v1/suppressions",
        case(true, all(200)).query("?tenant={tenant_id}"),
    );
    // Tickets: every role reads its tenants' tickets; the owner plan says
    // who moves them.
    add(
        M::GET,
        "/api/v1/tickets",
        case(true, all(200)).query("?tenant={tenant_id}&all=true"),
    );
    add(M::GET, "/api/v1/tickets/{ticket_id}", case(true, all(200)));
    add(
        M::POST,
        "/api/v1/tickets/{ticket_id}/status",
        case(true, only(INCIDENT_WORKERS, 200, 403))
            .fresh(Fresh::Ticket)
            .body(|_, _| Body::Json(json!({"to": "acknowledged"}))),
    );
    // Owner plans: read by all, set by the tenant's and the MSSP's admins.
    add(
        M::GET,
        "/api/v1/tenants/{tenant_id}/ticket-plans",
        case(true, all(200)),
    );
    add(
        M::PUT,
        "/api/v1/tenants/{tenant_id}/ticket-plans/{ticket_type}",
        case(true, only(ADMINS, 200, 403)).body(|_, _| {
            Body::Json(json!({
                "research": "mssp-analyst",
                "remediate": "customer-responder",
                "approve_closure": "customer-admin",
                "informed": ["customer-admin"]
            }))
        }),
    );
    // Everyone but a viewer comments (MANAGERS: every role but viewers).
    add(
        M::POST,
        "/api/v1/tickets/{ticket_id}/comments",
        case(true, only(MANAGERS, 201, 403))
            .body(|_, _| Body::Json(json!({"body": "walk", "shared": true}))),
    );
    // Magnitude weights: read by all, set by tenant settings managers.
    add(
        M::GET,
        "/api/v1/tenants/{tenant_id}/magnitude-weights",
        case(true, all(200)),
    );
    add(
        M::PUT,
        "/api/v1/tenants/{tenant_id}/magnitude-weights",
        case(true, only(ADMINS, 200, 403))
            .body(|_, _| Body::Json(json!({"severity": 3, "credibility": 3, "relevance": 4}))),
    );
    // Rules: everyone reads them; MSSP staff switch them per tenant.
    add(M::GET, "/api/v1/rules", case(false, all(200)));
    add(
        M::GET,
        "/api/v1/tenants/{tenant_id}/rules",
        case(true, all(200)),
    );
    add(
        M::PUT,
        "/api/v1/tenants/{tenant_id}/rules/{rule_id}",
        case(true, only(MSSP_STAFF, 200, 403)).body(|_, _| Body::Json(json!({"enabled": true}))),
    );
    add(
        M::POST,
        "/api/v1/tenants/{tenant_id}/rules/{rule_id}/test",
        case(true, all(200)).body(|_, _| Body::Json(json!({"hours": 1}))),
    );
    // Ingest tokens: MSSP admins and engineers manage them.
    add(
        M::GET,
        "/api/v1/ingest-tokens",
        case(true, only(INGESTERS, 200, 403)).query("?tenant_id={tenant_id}"),
    );
    add(
        M::POST,
        "/api/v1/tenants/{tenant_id}/ingest-tokens",
        case(true, only(INGESTERS, 201, 403))
            .body(|_, n| Body::Json(json!({"name": format!("walk-{n}"), "format": "cef"}))),
    );
    add(
        M::DELETE,
        "/api/v1/tenants/{tenant_id}/ingest-tokens/{ingest_token_id}",
        case(true, only(INGESTERS, 204, 403)),
    );
    add(
        M::GET,
        "/api/v1/events/stream",
        case(true, all(200)).query("?tenant={tenant_id}"),
    );
    // Portal
    add(M::GET, "/", case(false, all(200)));
    add(
        M::POST,
        "/session/tenant",
        case(true, all(303)).body(|ids, _| form(&[("tenant", &ids.tenant)])),
    );
    add(M::GET, "/account", case(false, all(200)));
    add(
        M::POST,
        "/account/password",
        case(false, all(422)).body(|_, _| {
            form(&[
                ("current_password", "x"),
                ("new_password", "one long new passphrase"),
                ("confirm", "differs"),
            ])
        }),
    );
    add(
        M::GET,
        "/account/mfa",
        case(false, only(WITH_MFA, 303, 200)),
    );
    add(
        M::POST,
        "/account/mfa",
        case(false, only(WITH_MFA, 403, 422)).body(|_, _| form(&[("code", "000000")])),
    );
    add(
        M::POST,
        "/account/recovery-codes",
        case(false, only(WITH_MFA, 200, 422)),
    );
    add(M::GET, "/tenants", case(false, all(200)));
    add(
        M::POST,
        "/tenants",
        case(false, only(MSSP_ADMIN, 303, 403))
            .body(|_, n| form(&[("slug", &format!("p-{n}")), ("name", "P")])),
    );
    add(M::GET, "/tenants/{tenant_id}", case(true, all(200)));
    add(
        M::POST,
        "/tenants/{tenant_id}",
        case(true, only(ADMINS, 303, 403)).body(|_, _| form(&[("name", "alpha Ltd")])),
    );
    add(
        M::POST,
        "/tenants/{tenant_id}/staff",
        case(true, only(MSSP_ADMIN, 303, 404)).body(|ids, _| form(&[("user", &ids.staff)])),
    );
    add(
        M::POST,
        "/tenants/{tenant_id}/staff/{user_id}/remove",
        case(true, only(MSSP_ADMIN, 303, 404)),
    );
    add(M::GET, "/users", case(false, only(READERS, 200, 403)));
    add(
        M::POST,
        "/users",
        case(true, only(ADMINS, 200, 403)).body(|ids, n| {
            form(&[
                ("email", &format!("p{n}@alpha.test")),
                ("role", "customer-viewer"),
                ("tenant", &ids.tenant),
            ])
        }),
    );
    add(
        M::GET,
        "/users/{user_id}",
        case(true, only(READERS, 200, 403)),
    );
    add(
        M::POST,
        "/users/{user_id}",
        case(true, only(ADMINS, 303, 403))
            .body(|_, _| form(&[("display_name", "Target"), ("role", "customer-viewer")])),
    );
    add(
        M::POST,
        "/users/{user_id}/password-reset",
        case(true, only(ADMINS, 200, 403)),
    );
    add(
        M::POST,
        "/users/{user_id}/mfa-reset",
        case(true, only(ADMINS, 303, 403)),
    );
    add(
        M::POST,
        "/users/{user_id}/tokens/{token_id}/revoke",
        case(true, only(ADMINS, 303, 403)),
    );
    add(M::GET, "/tokens", case(false, all(200)));
    add(
        M::POST,
        "/tokens",
        case(false, all(200)).body(|_, _| form(&[("name", "walk")])),
    );
    add(
        M::POST,
        "/tokens/{token_id}/revoke",
        case(true, all(303)).own_things(),
    );
    add(M::GET, "/audit", case(false, only(ADMINS, 200, 403)));
    // Inventory pages
    add(
        M::GET,
        "/assets",
        case(true, all(200)).query("?tenant={tenant_id}"),
    );
    add(
        M::GET,
        "/assets.csv",
        case(true, all(200)).query("?tenant={tenant_id}"),
    );
    add(M::GET, "/assets/template.csv", case(false, all(200)));
    add(
        M::POST,
        "/assets",
        case(true, only(MANAGERS, 303, 403)).body(|ids, n| {
            form(&[
                ("tenant", &ids.tenant),
                ("hostname", &format!("walk-{n}")),
                ("criticality", "high"),
            ])
        }),
    );
    add(
        M::POST,
        "/assets/bulk",
        case(true, only(MANAGERS, 303, 403)).body(|ids, _| {
            form(&[
                ("tenant", &ids.tenant),
                ("asset", &ids.asset),
                ("add_tags", "walked"),
            ])
        }),
    );
    add(
        M::GET,
        "/tenants/{tenant_id}/assets/{asset_id}",
        case(true, all(200)),
    );
    add(
        M::POST,
        "/tenants/{tenant_id}/assets/{asset_id}",
        case(true, only(MANAGERS, 303, 403)).body(|_, _| form(&[("owner", "Walk Team")])),
    );
    add(
        M::POST,
        "/tenants/{tenant_id}/assets/{asset_id}/delete",
        case(true, only(MANAGERS, 303, 403)).fresh(Fresh::Asset),
    );
    add(
        M::GET,
        "/findings",
        case(true, all(200)).query("?tenant={tenant_id}"),
    );
    add(
        M::GET,
        "/findings.csv",
        case(true, all(200)).query("?tenant={tenant_id}"),
    );
    add(
        M::POST,
        "/tenants/{tenant_id}/findings/{finding_id}/status",
        case(true, only(TRIAGERS, 303, 403)).body(|ids, _| {
            form(&[
                ("asset", &ids.asset),
                ("status", "false-positive"),
                ("reason", "walk"),
            ])
        }),
    );
    add(
        M::POST,
        "/tenants/{tenant_id}/ranges",
        case(true, only(MANAGERS, 303, 403)).body(|_, n| {
            form(&[
                ("cidr", &format!("172.{}.{}.0/24", 16 + n / 250, n % 250)),
                ("zone", "walk"),
            ])
        }),
    );
    add(
        M::POST,
        "/tenants/{tenant_id}/ranges/{range_id}/delete",
        case(true, only(MANAGERS, 303, 403)).fresh(Fresh::Range),
    );
    add(
        M::POST,
        "/tenants/{tenant_id}/risk-weights",
        case(true, only(ADMINS, 303, 403)).body(|_, _| form(&[("reset", "1")])),
    );
    add(M::GET, "/sources", case(false, only(INGESTERS, 200, 403)));
    add(
        M::POST,
        "/sources",
        case(true, only(INGESTERS, 200, 403)).body(|ids, n| {
            form(&[
                ("tenant", &ids.tenant),
                ("name", &format!("portal-walk-{n}")),
                ("format", "syslog"),
                ("allow", "10.0.0.0/8\n192.0.2.1"),
            ])
        }),
    );
    add(
        M::POST,
        "/tenants/{tenant_id}/ingest-tokens/{ingest_token_id}/revoke",
        case(true, only(INGESTERS, 303, 403)),
    );
    add(M::GET, "/imports", case(false, all(200)));
    add(M::GET, "/imports/{import_id}", case(true, all(200)));
    add(
        M::POST,
        "/imports",
        case(true, only(MANAGERS, 303, 403)).body(|ids, n| {
            Body::Multipart(
                vec![
                    ("tenant", ids.tenant.clone()),
                    ("kind", "assets".to_owned()),
                ],
                "assets.csv",
                format!("hostname,ip\nportal-upload-{n},10.55.1.2\n"),
            )
        }),
    );
    // Ingestion status: MSSP staff, for the tenants they may see.
    add(
        M::GET,
        "/ingestion",
        case(true, only(MSSP_STAFF, 200, 403)).query("?tenant={tenant_id}"),
    );
    // Event pages: every role reads its tenants' events.
    add(
        M::GET,
        "/events",
        case(true, all(200)).query("?tenant={tenant_id}"),
    );
    add(
        M::GET,
        "/events/stream",
        case(true, all(200)).query("?tenant={tenant_id}"),
    );
    add(
        M::GET,
        "/tenants/{tenant_id}/events/{event_id}",
        case(true, all(200)),
    );
    add(
        M::GET,
        "/offenses",
        case(true, all(200)).query("?tenant={tenant_id}&status=all"),
    );
    add(
        M::GET,
        "/rules",
        case(true, all(200)).query("?tenant={tenant_id}&test=garrison-port-scan&hours=1"),
    );
    add(
        M::POST,
        "/rules",
        case(false, only(MSSP_STAFF, 303, 403)).body(|_, _| {
            form(&[
                ("name", "walk.yml"),
                (
                    "body",
                    "id: walk-threshold\ntitle: Walk\nkind: threshold\nlevel: low\n\
                     where: { event.category: network }\ngroup_by: [source.ip]\n\
                     count: 1000\nwindow: 1m\n",
                ),
            ])
        }),
    );
    add(
        M::POST,
        "/tenants/{tenant_id}/rules",
        case(true, only(MSSP_STAFF, 303, 403))
            .body(|_, _| form(&[("rule_id", "garrison-port-scan"), ("state", "on")])),
    );
    add(M::GET, "/offenses/{offense_id}", case(true, all(200)));
    add(
        M::POST,
        "/offenses/{offense_id}/triage",
        case(true, only(OFFENSE_TRIAGERS, 303, 403))
            .body(|_, _| form(&[("action", "escalate"), ("reason", "walk")])),
    );
    add(
        M::POST,
        "/offenses/{offense_id}/comments",
        case(true, only(OFFENSE_TRIAGERS, 303, 403)).body(|_, _| form(&[("body", "walk")])),
    );
    add(
        M::GET,
        "/tickets",
        case(true, all(200)).query("?tenant={tenant_id}&status=all"),
    );
    add(M::GET, "/tickets/{ticket_id}", case(true, all(200)));
    add(
        M::POST,
        "/tickets/{ticket_id}/status",
        case(true, only(INCIDENT_WORKERS, 303, 403))
            .fresh(Fresh::Ticket)
            .body(|_, _| form(&[("to", "acknowledged")])),
    );
    add(
        M::POST,
        "/tickets/{ticket_id}/comments",
        case(true, only(MANAGERS, 303, 403)).body(|_, _| form(&[("body", "walk")])),
    );
    m
}

/// Public and login routes: what an anonymous client gets. None of them
/// takes a tenant's id.
fn anonymous_cases() -> BTreeMap<(Method, &'static str), u16> {
    use Method as M;
    BTreeMap::from([
        ((M::GET, "/healthz"), 200),
        ((M::GET, "/metrics"), 200),
        ((M::GET, "/api/v1/openapi.json"), 200),
        ((M::GET, "/static/{file}"), 200),
        ((M::POST, "/ingest/v1/events"), 401),
        ((M::GET, "/login"), 200),
        ((M::POST, "/login"), 403),
        ((M::GET, "/login/mfa"), 303),
        ((M::POST, "/login/mfa"), 303),
        ((M::GET, "/login/password"), 303),
        ((M::POST, "/login/password"), 303),
        ((M::GET, "/login/enrol"), 303),
        ((M::POST, "/login/enrol"), 303),
        ((M::POST, "/logout"), 303),
    ])
}

fn fill(template: &str, ids: &Ids) -> String {
    let own_token = template.starts_with("/api/v1/tokens/") || template.starts_with("/tokens/");
    let user = if template.contains("/staff/") {
        &ids.staff
    } else {
        &ids.user
    };
    template
        .replace("{tenant_id}", &ids.tenant)
        .replace("{user_id}", user)
        .replace(
            "{token_id}",
            if own_token {
                &ids.own_token
            } else {
                &ids.token
            },
        )
        .replace("{asset_id}", &ids.asset)
        .replace("{finding_id}", &ids.finding)
        .replace("{import_id}", &ids.import)
        .replace("{range_id}", &ids.range)
        .replace("{event_id}", &ids.event)
        .replace("{ingest_token_id}", &ids.ingest_token)
        .replace("{offense_id}", &ids.offense)
        .replace("{ticket_id}", &ids.ticket)
        .replace("{ticket_type}", "security-incident")
        .replace("{rule_id}", "garrison-port-scan")
        .replace("{file}", "app.css")
}

async fn send(
    actor: &Actor,
    access: Access,
    method: Method,
    path: &str,
    body: Body,
) -> (StatusCode, String) {
    // A live stream never ends: read up to its first event (the
    // subscription exists), or the whole body of a refusal.
    if path
        .split('?')
        .next()
        .is_some_and(|p| p.ends_with("/stream"))
    {
        let client = match access {
            Access::Api => &actor.api,
            _ => &actor.session.client,
        };
        let mut s = client.open(path).await;
        let ready = s
            .read_until("event: ready", std::time::Duration::from_secs(20))
            .await;
        assert!(ready || s.status != StatusCode::OK, "{path}: {}", s.text);
        return (s.status, s.text);
    }
    let r = match access {
        Access::Api => match body {
            Body::Json(v) => actor.api.api(method, path, Some(v)).await,
            Body::Multipart(fields, name, content) => {
                let ct = format!("multipart/form-data; boundary={BOUNDARY}");
                actor
                    .api
                    .send(
                        method,
                        path,
                        Some((&ct, multipart(&fields, name, &content))),
                    )
                    .await
            }
            _ => actor.api.api(method, path, None).await,
        },
        _ => {
            let client = &actor.session.client;
            if method == Method::GET {
                client.get(path).await
            } else if let Body::Multipart(fields, name, content) = body {
                // The portal's upload form sends its token first.
                let mut all = vec![("csrf", actor.session.csrf.clone())];
                all.extend(fields);
                let ct = format!("multipart/form-data; boundary={BOUNDARY}");
                client
                    .send(method, path, Some((&ct, multipart(&all, name, &content))))
                    .await
            } else {
                let mut fields: Vec<(&str, String)> = match body {
                    Body::Form(f) => f,
                    _ => Vec::new(),
                };
                fields.push(("csrf", actor.session.csrf.clone()));
                let borrowed: Vec<(&str, &str)> =
                    fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                client.post_form(path, &borrowed).await
            }
        }
    };
    (r.status, r.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_keeps_tenants_apart() {
    let fx = fixture().await;
    let table = cases();
    let anonymous = anonymous_cases();
    let routes = route_table();

    let missing: Vec<String> = routes
        .iter()
        .filter(|r| {
            let key = (r.method.clone(), r.path);
            !table.contains_key(&key) && !anonymous.contains_key(&key)
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        missing.is_empty(),
        "routes without an isolation entry: {missing:?}"
    );
    let stale: Vec<_> = table
        .keys()
        .chain(anonymous.keys())
        .filter(|(m, p)| !routes.iter().any(|r| r.method == m && r.path == *p))
        .collect();
    assert!(
        stale.is_empty(),
        "entries for routes that no longer exist: {stale:?}"
    );

    let markers = fx.b_markers();
    let mut failures = Vec::new();
    let mut n = 0_u32;

    for route in &routes {
        let key = (route.method.clone(), route.path);
        if let Some(expected) = anonymous.get(&key) {
            let c = fx.t.client();
            let path = fill(route.path, &fx.ids(&fx.actors[0], Target::Missing));
            let r = if route.method == Method::GET {
                c.get(&path).await
            } else {
                c.post_form(&path, &[]).await
            };
            if r.status.as_u16() != *expected {
                failures.push(format!(
                    "anonymous {} {path}: {} (expected {expected})",
                    route.method, r.status
                ));
            }
            // `/metrics` labels the ingestion series with tenant ids
            // (opaque UUIDs, by decision; `metrics.token` guards them):
            // the id may show there, nothing else of tenant B.
            let b_id = fx.b.id.to_string();
            let exempt = |m: &String| route.path == "/metrics" && *m == b_id;
            if let Some(m) = markers
                .iter()
                .find(|m| !exempt(m) && r.body.contains(m.as_str()))
            {
                failures.push(format!(
                    "anonymous {} {path} shows tenant B's {m}",
                    route.method
                ));
            }
            continue;
        }
        let case = &table[&key];
        for actor in &fx.actors {
            let targets: &[Target] = if !case.names_objects {
                &[Target::Own]
            } else if actor.role == Role::MsspAdmin && !case.own_things {
                // The MSSP admin sees every tenant: there is no "other".
                &[Target::Own, Target::Missing]
            } else {
                &[Target::Own, Target::Other, Target::Missing]
            };
            for &target in targets {
                n += 1;
                // Undo earlier calls that would change this one's answer.
                let op = fx.t.operator();
                for t in [fx.a.id, fx.b.id] {
                    fx.t.app
                        .assign_staff(&op, fx.staff_x.id, t)
                        .await
                        .expect("reassign");
                }
                let mut ids = fx.ids(actor, target);
                if let (Some(fresh), Target::Own) = (case.fresh, target) {
                    match fresh {
                        Fresh::Asset => {
                            let input = garrison_app::inventory::AssetInput {
                                hostname: Some(format!("fresh-{n}")),
                                ..Default::default()
                            };
                            ids.asset =
                                fx.t.app
                                    .create_asset(&op, fx.a.id, input)
                                    .await
                                    .expect("fresh asset")
                                    .id
                                    .to_string();
                        }
                        Fresh::Ticket => {
                            ids.ticket = ticket(&fx.t, fx.a.id, None, "alpha").await;
                        }
                        Fresh::Range => {
                            let cidr = format!("192.168.{}.0/24", n % 250);
                            ids.range =
                                fx.t.app
                                    .create_range(&op, fx.a.id, &cidr, "fresh", None, None)
                                    .await
                                    .map(|r| r.id.to_string())
                                    .unwrap_or_else(|_| ids.range.clone());
                        }
                    }
                }
                let path = format!("{}{}", fill(route.path, &ids), fill(case.query, &ids));
                let expected = match target {
                    Target::Own => (case.own)(actor.role),
                    Target::Other | Target::Missing => 404,
                };
                let (status, body) = send(
                    actor,
                    route.access,
                    route.method.clone(),
                    &path,
                    (case.body)(&ids, n),
                )
                .await;
                if status.as_u16() != expected {
                    failures.push(format!(
                        "{} {} {path} ({target:?}): {status} (expected {expected})",
                        actor.role, route.method
                    ));
                }
                if actor.role != Role::MsspAdmin
                    && let Some(m) = markers.iter().find(|m| body.contains(m.as_str()))
                {
                    failures.push(format!(
                        "{} {} {path} ({target:?}) shows tenant B's {m}",
                        actor.role, route.method
                    ));
                }
            }
        }
    }
    // Events and offenses without a tenant named: every tenant the caller may see,
    // which for everyone but the MSSP admin excludes tenant B.
    for actor in fx.actors.iter().filter(|a| a.role != Role::MsspAdmin) {
        for path in [
            "/api/v1/events",
            "/api/v1/events/counts?field=host.name",
            "/api/v1/offenses",
        ] {
            let r = actor.api.api(Method::GET, path, None).await;
            if r.status != StatusCode::OK || !r.body.contains("alpha-event") {
                failures.push(format!(
                    "{} GET {path}: {} without tenant A's event: {}",
                    actor.role, r.status, r.body
                ));
            }
            if let Some(m) = markers.iter().find(|m| r.body.contains(m.as_str())) {
                failures.push(format!("{} GET {path} shows tenant B's {m}", actor.role));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Nothing happened to tenant B through all that.
    let op = fx.t.operator();
    let b = fx.t.app.tenant(&op, fx.b.id).await.expect("b");
    assert_eq!(b.name, fx.b.name);
    let target_b = fx.t.app.user(&op, fx.target_b.id).await.expect("target b");
    assert_eq!(target_b.display_name, fx.target_b.display_name);
    assert!(!target_b.is_disabled);
    let tokens =
        fx.t.app
            .list_tokens(&op, Some(fx.target_b.id))
            .await
            .expect("tokens");
    assert!(
        tokens.iter().all(|t| t.revoked_at.is_none()),
        "tenant B's token was revoked"
    );
    let users_b =
        fx.t.app
            .list_users(&op, garrison_store::UserFilter::Tenant(fx.b.id))
            .await
            .expect("users");
    assert_eq!(users_b.len(), 1, "no user was created in tenant B");
    let assets_b =
        fx.t.app
            .list_assets(
                &op,
                &garrison_store::AssetQuery {
                    tenant: Some(fx.b.id),
                    ..Default::default()
                },
            )
            .await
            .expect("assets");
    assert_eq!(
        assets_b.total, 1,
        "no asset was created in or deleted from tenant B"
    );
    assert!(
        assets_b.items[0].asset.owner.is_none() && assets_b.items[0].asset.tags.is_empty(),
        "B's asset is unchanged"
    );
    let findings_b =
        fx.t.app
            .list_findings(
                &op,
                &garrison_store::FindingQuery {
                    tenant: Some(fx.b.id),
                    ..Default::default()
                },
            )
            .await
            .expect("findings");
    assert!(
        findings_b
            .items
            .iter()
            .all(|f| f.status == garrison_core::asset::FindingStatus::Open)
    );
    assert_eq!(
        fx.t.app
            .list_ranges(&op, fx.b.id)
            .await
            .expect("ranges")
            .len(),
        1
    );
    assert_eq!(
        fx.t.app.risk_weights(&op, fx.b.id).await.expect("weights"),
        garrison_app::inventory::risk::RiskWeights::default(),
        "tenant B's risk weights are untouched"
    );
    let ingest_b =
        fx.t.app
            .list_ingest_tokens(&op, Some(fx.b.id))
            .await
            .expect("ingest tokens");
    assert_eq!(ingest_b.len(), 1, "no ingest token was created in tenant B");
    assert!(
        ingest_b[0].revoked_at.is_none(),
        "tenant B's ingest token was revoked"
    );
}
