//! Tickets end to end on the real store (SQLite, and PostgreSQL on the
//! second pass): an analyst escalates an offense, which opens its ticket
//! (once, however often it is escalated); the ticket moves along its
//! workflow as the owner plan allows each role — a customer viewer cannot
//! close, the customer's admin can, the MSSP cannot close a ticket whose
//! plan gives closure to the customer — and every move is recorded; the
//! other tenant sees none of it.

use std::path::Path;
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use garrison_app::events::ingest::Format;
use garrison_app::inventory::Progress;
use garrison_core::Role;
use garrison_store::OffenseQuery;
use garrison_testkit::{TestApp, TestClient};
use serde_json::{Value, json};

async fn api_of(
    t: &TestApp,
    email: &str,
    role: Role,
    tenant: Option<garrison_core::TenantId>,
) -> TestClient {
    let (user, _) = t.user(email, role, tenant).await;
    t.client().with_bearer(&t.token_for(&user.email).await)
}

async fn status(api: &TestClient, ticket: &str, to: &str, reason: &str) -> (StatusCode, Value) {
    let r = api
        .api(
            Method::POST,
            &format!("/api/v1/tickets/{ticket}/status"),
            Some(json!({ "to": to, "reason": reason })),
        )
        .await;
    let body = serde_json::from_str(&r.body).unwrap_or(Value::Null);
    (r.status, body)
}

/// The offense one Suricata alert (an EVE line) raises in `tenant`,
/// ingested through the pipeline.
async fn offense_of(
    t: &TestApp,
    tenant: garrison_core::TenantId,
    line: &str,
) -> garrison_core::offense::Offense {
    let op = t.operator();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("eve.json");
    std::fs::write(&path, line).expect("write");
    t.app
        .ingest_file(
            &op,
            tenant,
            Path::new(&path),
            Format::SuricataEve,
            Arc::new(Progress::default()),
        )
        .await
        .expect("ingest");
    t.app
        .list_offenses(&op, &OffenseQuery::default())
        .await
        .expect("offenses")
        .items[0]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escalated_offense_becomes_a_ticket_worked_and_closed_as_its_plan_says() {
    let t = TestApp::new().await;
    let op = t.operator();
    let acme = t.tenant("acme").await.id;
    let globex = t.tenant("globex").await.id;
    let offense = offense_of(&t, acme, r#"{"timestamp":"2026-11-23T07:00:00.000000+0000","event_type":"alert","src_ip":"203.0.113.9","src_port":51515,"dest_ip":"10.0.0.5","dest_port":3389,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":2027512,"rev":1,"signature":"ET EXPLOIT Possible BlueKeep RDP exploit (CVE-2019-0708)","category":"Attempted Administrator Privilege Gain","severity":1}}"#).await;

    let (analyst, _) = t.user("analyst@mssp.test", Role::MsspAnalyst, None).await;
    t.app
        .assign_staff(&op, analyst.id, acme)
        .await
        .expect("assign");
    let mssp = t.client().with_bearer(&t.token_for(&analyst.email).await);
    let admin = api_of(&t, "admin@acme.test", Role::CustomerAdmin, Some(acme)).await;
    let responder = api_of(&t, "soc@acme.test", Role::CustomerResponder, Some(acme)).await;
    let viewer = api_of(&t, "viewer@acme.test", Role::CustomerViewer, Some(acme)).await;
    let other = api_of(&t, "admin@globex.test", Role::CustomerAdmin, Some(globex)).await;

    // Escalating twice opens one ticket.
    for _ in 0..2 {
        let r = mssp
            .api(
                Method::POST,
                &format!("/api/v1/offenses/{}/escalate", offense.id),
                Some(json!({ "reason": "RDP exploit against the gateway" })),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let r = admin.api(Method::GET, "/api/v1/tickets", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let list = r.json();
    assert_eq!(list["total"], 1, "{list}");
    let ticket = list["items"][0].clone();
    let id = ticket["id"].as_str().expect("id").to_owned();
    assert_eq!(ticket["offense_id"], offense.id.to_string());
    assert_eq!(ticket["status"], "new");
    assert_eq!(ticket["ticket_type"], "security-incident");
    assert_eq!(ticket["plan"]["approve_closure"], "customer-admin");
    assert!(ticket["detected_at"].is_string());
    let clocks: Vec<(&str, &str)> = ticket["sla"]
        .as_array()
        .expect("sla")
        .iter()
        .map(|c| {
            (
                c["clock"].as_str().unwrap_or(""),
                c["state"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        clocks,
        [
            ("acknowledge", "running"),
            ("first-response", "running"),
            ("resolve", "running")
        ],
        "{ticket}"
    );
    assert!(ticket["sla"][0]["due"].is_string());

    // The other tenant sees nothing.
    let r = other.api(Method::GET, "/api/v1/tickets", None).await;
    assert_eq!(r.json()["total"], 0);
    let r = other
        .api(Method::GET, &format!("/api/v1/tickets/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        status(&other, &id, "acknowledged", "").await.0,
        StatusCode::NOT_FOUND
    );

    // Worked: acknowledged by the MSSP, waiting on the customer, answered.
    assert_eq!(
        status(&viewer, &id, "acknowledged", "").await.0,
        StatusCode::FORBIDDEN
    );
    let (s, b) = status(&mssp, &id, "acknowledged", "").await;
    assert_eq!(
        (s, b["status"].as_str()),
        (StatusCode::OK, Some("acknowledged")),
        "{b}"
    );
    assert!(b["acknowledged_at"].is_string());
    assert_eq!(
        status(&responder, &id, "waiting-on-customer", "").await.0,
        StatusCode::FORBIDDEN,
        "the MSSP declares that it waits on the customer"
    );
    assert_eq!(
        status(&mssp, &id, "waiting-on-customer", "need the host owner")
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        status(&responder, &id, "in-progress", "").await.0,
        StatusCode::OK
    );
    // Resolving needs a reason; closing needs a resolution first.
    assert_eq!(
        status(&responder, &id, "resolved", "").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        status(&admin, &id, "closed", "").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        status(
            &responder,
            &id,
            "resolved",
            "patched, RDP closed at the edge"
        )
        .await
        .0,
        StatusCode::OK
    );

    // Comments: the customer's are shared; the MSSP's internal ones are
    // never shown to the customer.
    let comment = |api: &TestClient, body: &'static str, shared: bool| {
        let api = api.clone();
        let id = id.clone();
        async move {
            api.api(
                Method::POST,
                &format!("/api/v1/tickets/{id}/comments"),
                Some(json!({ "body": body, "shared": shared })),
            )
            .await
        }
    };
    assert_eq!(
        comment(&viewer, "can I?", true).await.status,
        StatusCode::FORBIDDEN
    );
    let r = comment(&responder, "<b>patched</b> at 10:40", false).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.json()["shared"],
        true,
        "the customer's comments are shared"
    );
    let r = comment(
        &mssp,
        "internal: attacker infra seen at two customers",
        false,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let seen = |api: TestClient| {
        let id = id.clone();
        async move {
            let d = api
                .api(Method::GET, &format!("/api/v1/tickets/{id}"), None)
                .await
                .json();
            d["comments"]
                .as_array()
                .expect("comments")
                .iter()
                .map(|c| c["body"].as_str().unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(seen(admin.clone()).await, ["<b>patched</b> at 10:40"]);
    assert_eq!(
        seen(mssp.clone()).await,
        [
            "<b>patched</b> at 10:40",
            "internal: attacker infra seen at two customers"
        ]
    );
    assert_eq!(
        other
            .api(Method::GET, &format!("/api/v1/tickets/{id}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Closure: not the viewer, not the MSSP (the plan gives it to the
    // customer's admin), the customer's admin.
    let (s, b) = status(&viewer, &id, "closed", "").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    let (s, b) = status(&mssp, &id, "closed", "").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    assert!(b.to_string().contains("owner plan"), "{b}");
    let (s, b) = status(&admin, &id, "closed", "").await;
    assert_eq!(
        (s, b["status"].as_str()),
        (StatusCode::OK, Some("closed")),
        "{b}"
    );
    assert!(b["closed_at"].is_string() && b["resolved_at"].is_string());
    // The same move again is no longer a step.
    assert_eq!(
        status(&admin, &id, "closed", "").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Every move is recorded, with who and why.
    let r = viewer
        .api(Method::GET, &format!("/api/v1/tickets/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let d = r.json();
    let moves: Vec<(String, String)> = d["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["to"].as_str().unwrap_or_default().to_owned(),
                c["actor"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            ("acknowledged", "analyst@mssp.test"),
            ("waiting-on-customer", "analyst@mssp.test"),
            ("in-progress", "soc@acme.test"),
            ("resolved", "soc@acme.test"),
            ("closed", "admin@acme.test"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    assert_eq!(d["changes"][3]["reason"], "patched, RDP closed at the edge");
    // Closed tickets leave the default list, not the full one.
    assert_eq!(
        admin.api(Method::GET, "/api/v1/tickets", None).await.json()["total"],
        0
    );
    assert_eq!(
        admin
            .api(Method::GET, "/api/v1/tickets?all=true", None)
            .await
            .json()["total"],
        1
    );
}

/// The customer's admin changes the incident plan so that the customer's
/// responders close incidents: the next escalated offense's ticket carries
/// the new plan, and a responder closes it; a viewer cannot be given a
/// duty; another tenant's admin cannot touch the plan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenants_own_plan_governs_its_new_tickets() {
    let t = TestApp::new().await;
    let op = t.operator();
    let acme = t.tenant("acme").await.id;
    let globex = t.tenant("globex").await.id;
    let admin = api_of(&t, "admin@acme.test", Role::CustomerAdmin, Some(acme)).await;
    let responder = api_of(&t, "soc@acme.test", Role::CustomerResponder, Some(acme)).await;
    let other = api_of(&t, "admin@globex.test", Role::CustomerAdmin, Some(globex)).await;
    let plan_path = format!("/api/v1/tenants/{acme}/ticket-plans/security-incident");
    let plan = json!({
        "research": "mssp-analyst",
        "remediate": "customer-responder",
        "approve_closure": "customer-responder",
        "informed": ["customer-admin"]
    });
    assert_eq!(
        other
            .api(Method::PUT, &plan_path, Some(plan.clone()))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        responder
            .api(Method::PUT, &plan_path, Some(plan.clone()))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let viewer_plan = json!({
        "research": "mssp-analyst", "remediate": "customer-viewer",
        "approve_closure": "customer-admin", "informed": []
    });
    let r = admin.api(Method::PUT, &plan_path, Some(viewer_plan)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("remediate"), "{}", r.body);
    let r = admin.api(Method::PUT, &plan_path, Some(plan)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let plans = admin
        .api(
            Method::GET,
            &format!("/api/v1/tenants/{acme}/ticket-plans"),
            None,
        )
        .await
        .json();
    let incident = plans
        .as_array()
        .expect("plans")
        .iter()
        .find(|p| p["ticket_type"] == "security-incident")
        .expect("incident plan")
        .clone();
    assert_eq!(
        (
            incident["customised"].as_bool(),
            incident["approve_closure"].as_str()
        ),
        (Some(true), Some("customer-responder"))
    );
    assert_eq!(plans.as_array().map(Vec::len), Some(6), "every type listed");

    // A new ticket carries it: the responder resolves and closes.
    let offense = offense_of(&t, acme, r#"{"timestamp":"2026-11-23T07:00:00.000000+0000","event_type":"alert","src_ip":"203.0.113.9","src_port":51515,"dest_ip":"10.0.0.5","dest_port":445,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":2024218,"rev":1,"signature":"ET EXPLOIT SMB exploit attempt","category":"Attempted Administrator Privilege Gain","severity":1}}"#).await.id;
    let ticket = t
        .app
        .escalate_offense(&op, offense, "SMB exploit")
        .await
        .expect("escalate");
    assert_eq!(ticket.plan.approve_closure, Role::CustomerResponder);
    let id = ticket.id.to_string();
    assert_eq!(
        status(&responder, &id, "acknowledged", "").await.0,
        StatusCode::OK
    );
    assert_eq!(
        status(&responder, &id, "resolved", "blocked SMB at the edge")
            .await
            .0,
        StatusCode::OK
    );
    let (s, b) = status(&responder, &id, "closed", "").await;
    assert_eq!(s, StatusCode::OK, "{b}");
}
