//! The conformance suite: the behaviour every storage backend must show,
//! written once and run against SQLite and PostgreSQL.
//!
//! A backend's test file calls [`conformance_suite!`] with an async function
//! that returns a fresh, migrated, empty [`Fixture`]; the macro writes one
//! `#[tokio::test]` per check.

use std::ops::Deref;
use std::sync::Arc;

use garrison_core::audit::{Action, AuditEntry, ChainKey, ChainVerifier};
use garrison_core::model::{
    ApiToken, IngestToken, NewTenant, NewUser, Session, SessionStage, TenantChange, UserChange,
};
use garrison_core::{
    Principal, Role, Secret, SessionId, TenantId, TenantScope, Timestamp, TokenId, UserId,
};

use garrison_core::event::{Event, Fields};

use crate::{
    AuditQuery, EventCursor, EventFilter, EventQuery, SessionChange, Store, StoreError,
    TicketQuery, UserFilter,
};

/// A fresh store, the key its audit chain is sealed with, and whatever must
/// live as long as the store (a temporary directory, a database to drop).
pub struct Fixture {
    pub store: Arc<dyn Store>,
    pub key: ChainKey,
    pub guard: Box<dyn std::any::Any + Send + Sync>,
}

impl std::fmt::Debug for Fixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fixture")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Deref for Fixture {
    type Target = dyn Store;
    fn deref(&self) -> &Self::Target {
        &*self.store
    }
}

/// Writes one test per conformance check. `$fresh` is an async fn returning
/// a [`Fixture`].
#[macro_export]
macro_rules! conformance_suite {
    ($fresh:path) => {
        $crate::conformance_suite!(@each $fresh;
            tenants_are_created_listed_and_scoped,
            tenant_slugs_are_unique_and_failures_write_no_audit,
            tenants_are_updated,
            users_are_scoped_by_tenant,
            user_emails_are_unique,
            credentials_and_password_changes,
            mfa_enrolment_replay_and_recovery_codes,
            staff_assignments,
            sessions_rotate_touch_and_expire,
            tokens_are_owned_revocable_and_touched,
            disabling_and_password_resets_revoke_tokens,
            ingest_tokens_are_scoped_unique_and_revocable,
            audit_chain_is_scoped_paged_and_intact,
            inventory_assets_are_matched_listed_and_scoped,
            inventory_findings_are_upserted_listed_and_scoped,
            inventory_imports_and_ranges,
            inventory_scores_may_be_missing_then_present,
            events_round_trip_exactly_and_reinserts_are_no_ops,
            events_are_paged_newest_first,
            events_are_filtered_and_counted,
            events_are_isolated_by_tenant,
            event_retention_purges_only_old_events_of_the_tenant,
            offenses_group_alerts_score_and_stay_in_their_tenant,
            alerts_link_their_contributing_events,
            offense_triage_comments_and_suppressions,
            rule_files_and_tenant_settings,
            vulns_keep_each_sources_columns,
            vulns_are_found_by_id_and_by_product,
            vulns_take_large_epss_batches,
            concurrent_audit_appends_keep_one_chain,
            indicators_are_upserted_idempotently_and_paged,
            indicators_and_sightings_are_isolated_by_tenant,
            live_indicators_follow_validity_and_revocation,
            tickets_are_opened_moved_and_isolated
        );
    };
    (@each $fresh:path; $($name:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let fixture = $fresh().await;
                $crate::conformance::$name(&fixture).await;
            }
        )*
    };
}

fn t(ms: i64) -> Timestamp {
    Timestamp::from_millis(1_800_000_000_000 + ms)
}

fn op() -> Principal {
    Principal::system("conformance")
}

fn scope(tenant: TenantId) -> TenantScope {
    op().scope(tenant)
        .expect("the system principal sees every tenant")
}

fn audit(action: Action) -> AuditEntry {
    AuditEntry::new(t(0), action, "conformance")
}

async fn tenant(store: &dyn Store, slug: &str) -> TenantId {
    let new = NewTenant {
        id: TenantId::new(),
        slug: slug.to_owned(),
        name: format!("{slug} Ltd"),
        created_at: t(1),
    };
    store
        .create_tenant(&new, &audit(Action::TenantCreated).tenant(Some(new.id)))
        .await
        .expect("create tenant");
    new.id
}

/// Access limited to the given tenants, as a customer or assigned analyst
/// would have it.
fn access_of(tenants: &[TenantId]) -> garrison_core::TenantAccess {
    let p = Principal::authenticated(
        UserId::new(),
        "analyst@mssp.test",
        Role::MsspAnalyst,
        None,
        tenants.iter().copied(),
        garrison_core::tenancy::AuthMethod::System,
    )
    .expect("principal");
    p.access()
}

async fn user(store: &dyn Store, email: &str, role: Role, tenant: Option<TenantId>) -> UserId {
    let new = NewUser {
        id: UserId::new(),
        tenant_id: tenant,
        email: email.to_owned(),
        display_name: email.split('@').next().unwrap_or_default().to_owned(),
        role,
        password_hash: Secret::from("$argon2id$fake"),
        must_change_password: true,
        created_at: t(2),
    };
    store
        .create_user(&new, &audit(Action::UserCreated).tenant(tenant))
        .await
        .expect("create user");
    new.id
}

fn session(user: UserId, token_hash: &str, expires: i64) -> Session {
    Session {
        id: SessionId::new(),
        user_id: user,
        token_hash: token_hash.to_owned(),
        stage: SessionStage::MfaPending,
        csrf_token: format!("csrf-{token_hash}"),
        created_at: t(0),
        last_seen_at: t(0),
        expires_at: t(expires),
        source_ip: Some("192.0.2.7".to_owned()),
        user_agent: Some("conformance/1".to_owned()),
        active_tenant: None,
        pending_totp_sealed: None,
    }
}

pub async fn tenants_are_created_listed_and_scoped(f: &Fixture) {
    let store = &**f;
    let b = tenant(store, "beta").await;
    let a = tenant(store, "alpha").await;

    let all = store.list_tenants(&op().access()).await.expect("list");
    let slugs: Vec<_> = all.iter().map(|t| t.slug.as_str()).collect();
    assert_eq!(slugs, ["alpha", "beta"], "listed by slug");

    let only_a = store.list_tenants(&access_of(&[a])).await.expect("list");
    assert_eq!(only_a.len(), 1);
    assert_eq!(only_a[0].id, a);
    assert!(
        store
            .list_tenants(&access_of(&[]))
            .await
            .expect("list")
            .is_empty()
    );

    let found = store.find_tenant(&scope(b)).await.expect("find");
    assert_eq!(found.slug, "beta");
    assert_eq!(found.name, "beta Ltd");
    assert!(!found.mfa_required_for_all);
    assert_eq!(found.created_at, t(1));

    let by_slug = store
        .find_tenant_by_slug(&access_of(&[a]), "alpha")
        .await
        .expect("slug");
    assert_eq!(by_slug.id, a);
    assert!(matches!(
        store.find_tenant_by_slug(&access_of(&[a]), "beta").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.find_tenant(&scope(TenantId::new())).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn tenant_slugs_are_unique_and_failures_write_no_audit(f: &Fixture) {
    let store = &**f;
    tenant(store, "acme").await;
    let head = store.audit_head().await.expect("head");
    let dup = NewTenant {
        id: TenantId::new(),
        slug: "acme".to_owned(),
        name: "Other".to_owned(),
        created_at: t(3),
    };
    let err = store
        .create_tenant(&dup, &audit(Action::TenantCreated))
        .await
        .expect_err("duplicate slug");
    assert!(matches!(err, StoreError::Conflict("slug")), "{err:?}");
    assert_eq!(
        store.audit_head().await.expect("head"),
        head,
        "no audit record for a failed change"
    );
}

pub async fn tenants_are_updated(f: &Fixture) {
    let store = &**f;
    let a = tenant(store, "acme").await;
    let change = TenantChange {
        name: Some("Acme Corporation".to_owned()),
        mfa_required_for_all: Some(true),
    };
    let updated = store
        .update_tenant(&scope(a), &change, &audit(Action::TenantUpdated))
        .await
        .expect("update");
    assert_eq!(updated.name, "Acme Corporation");
    assert!(updated.mfa_required_for_all);
    let partial = TenantChange {
        name: None,
        mfa_required_for_all: Some(false),
    };
    let updated = store
        .update_tenant(&scope(a), &partial, &audit(Action::TenantUpdated))
        .await
        .expect("update");
    assert_eq!(updated.name, "Acme Corporation", "unchanged field kept");
    assert!(!updated.mfa_required_for_all);
    assert!(matches!(
        store
            .update_tenant(
                &scope(TenantId::new()),
                &change,
                &audit(Action::TenantUpdated)
            )
            .await,
        Err(StoreError::NotFound)
    ));
}

pub async fn users_are_scoped_by_tenant(f: &Fixture) {
    let store = &**f;
    let a = tenant(store, "acme").await;
    let b = tenant(store, "bravo").await;
    let admin = user(store, "root@mssp.test", Role::MsspAdmin, None).await;
    let ua = user(store, "ann@acme.test", Role::CustomerAdmin, Some(a)).await;
    let ub = user(store, "bob@bravo.test", Role::CustomerViewer, Some(b)).await;

    let seen = store
        .find_user(&access_of(&[a]), ua)
        .await
        .expect("own tenant");
    assert_eq!(seen.email, "ann@acme.test");
    assert_eq!(seen.role, Role::CustomerAdmin);
    assert_eq!(seen.tenant_id, Some(a));
    assert!(seen.must_change_password);
    assert!(!seen.has_mfa());
    for hidden in [ub, admin, UserId::new()] {
        assert!(matches!(
            store.find_user(&access_of(&[a]), hidden).await,
            Err(StoreError::NotFound)
        ));
    }
    assert_eq!(
        store
            .find_user(&op().access(), admin)
            .await
            .expect("all")
            .role,
        Role::MsspAdmin
    );

    let emails = |users: Vec<garrison_core::model::User>| -> Vec<String> {
        users.into_iter().map(|u| u.email).collect()
    };
    assert_eq!(
        emails(
            store
                .list_users(&op().access(), UserFilter::All)
                .await
                .expect("list")
        ),
        ["ann@acme.test", "bob@bravo.test", "root@mssp.test"]
    );
    assert_eq!(
        emails(
            store
                .list_users(&access_of(&[a]), UserFilter::All)
                .await
                .expect("list")
        ),
        ["ann@acme.test"]
    );
    assert!(
        store
            .list_users(&access_of(&[a]), UserFilter::Tenant(b))
            .await
            .expect("list")
            .is_empty(),
        "a filter cannot widen access"
    );
    assert!(
        store
            .list_users(&access_of(&[a, b]), UserFilter::Staff)
            .await
            .expect("list")
            .is_empty(),
        "staff are visible only with access to every tenant"
    );
    assert_eq!(
        emails(
            store
                .list_users(&op().access(), UserFilter::Staff)
                .await
                .expect("list")
        ),
        ["root@mssp.test"]
    );

    let change = UserChange {
        display_name: Some("Ann A.".to_owned()),
        role: Some(Role::CustomerResponder),
        is_disabled: Some(true),
    };
    let updated = store
        .update_user(
            &access_of(&[a]),
            ua,
            &change,
            t(9),
            &audit(Action::UserUpdated),
        )
        .await
        .expect("update");
    assert_eq!(updated.display_name, "Ann A.");
    assert_eq!(updated.role, Role::CustomerResponder);
    assert!(updated.is_disabled);
    assert_eq!(updated.updated_at, t(9));
    assert!(matches!(
        store
            .update_user(
                &access_of(&[a]),
                ub,
                &change,
                t(9),
                &audit(Action::UserUpdated)
            )
            .await,
        Err(StoreError::NotFound)
    ));
}

pub async fn user_emails_are_unique(f: &Fixture) {
    let store = &**f;
    let a = tenant(store, "acme").await;
    user(store, "dup@acme.test", Role::CustomerViewer, Some(a)).await;
    let again = NewUser {
        id: UserId::new(),
        tenant_id: None,
        email: "dup@acme.test".to_owned(),
        display_name: "x".to_owned(),
        role: Role::MsspAnalyst,
        password_hash: Secret::from("h"),
        must_change_password: false,
        created_at: t(0),
    };
    let err = store
        .create_user(&again, &audit(Action::UserCreated))
        .await
        .expect_err("duplicate");
    assert!(matches!(err, StoreError::Conflict("email")), "{err:?}");
}

pub async fn credentials_and_password_changes(f: &Fixture) {
    let store = &**f;
    let a = tenant(store, "acme").await;
    let u = user(store, "carol@acme.test", Role::CustomerViewer, Some(a)).await;
    assert!(
        store
            .find_credentials_by_email("nobody@acme.test")
            .await
            .expect("lookup")
            .is_none()
    );
    let creds = store
        .find_credentials_by_email("carol@acme.test")
        .await
        .expect("lookup")
        .expect("exists");
    assert_eq!(creds.user.id, u);
    assert_eq!(creds.password_hash.expose(), "$argon2id$fake");
    assert!(creds.totp_secret_sealed.is_none());

    store
        .create_session(&session(u, "s1", 1000))
        .await
        .expect("session");
    store
        .create_session(&session(u, "s2", 1000))
        .await
        .expect("session");
    store
        .set_password(
            u,
            &Secret::from("$argon2id$new"),
            false,
            false,
            t(5),
            &audit(Action::PasswordChanged),
        )
        .await
        .expect("set password");
    let creds = store.find_credentials(u).await.expect("creds");
    assert_eq!(creds.password_hash.expose(), "$argon2id$new");
    assert!(!creds.user.must_change_password);
    assert!(
        store.find_session("s1").await.expect("find").is_none(),
        "sessions end"
    );
    assert!(store.find_session("s2").await.expect("find").is_none());

    store
        .record_login(u, t(7), &audit(Action::LoginSucceeded))
        .await
        .expect("login");
    assert_eq!(
        store
            .find_credentials(u)
            .await
            .expect("creds")
            .user
            .last_login_at,
        Some(t(7))
    );
    assert!(matches!(
        store.find_credentials(UserId::new()).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn mfa_enrolment_replay_and_recovery_codes(f: &Fixture) {
    let store = &**f;
    let u = user(store, "dave@mssp.test", Role::MsspAnalyst, None).await;
    let codes: Vec<String> = (0..3).map(|i| format!("hash-{i}")).collect();
    store
        .set_mfa(
            u,
            Some("sealed-secret"),
            &codes,
            t(4),
            &audit(Action::MfaEnrolled),
        )
        .await
        .expect("enrol");
    let creds = store.find_credentials(u).await.expect("creds");
    assert_eq!(
        creds
            .totp_secret_sealed
            .as_ref()
            .map(|s| s.expose().as_str()),
        Some("sealed-secret")
    );
    assert_eq!(creds.user.mfa_enrolled_at, Some(t(4)));
    assert_eq!(
        store.count_unused_recovery_codes(u).await.expect("count"),
        3
    );

    assert!(store.use_totp_step(u, 100).await.expect("step"));
    assert!(
        !store.use_totp_step(u, 100).await.expect("step"),
        "replay refused"
    );
    assert!(
        !store.use_totp_step(u, 99).await.expect("step"),
        "older step refused"
    );
    assert!(store.use_totp_step(u, 101).await.expect("step"));

    assert!(
        store
            .use_recovery_code(u, "hash-1", t(5), &audit(Action::RecoveryCodeUsed))
            .await
            .expect("use")
    );
    assert!(
        !store
            .use_recovery_code(u, "hash-1", t(6), &audit(Action::RecoveryCodeUsed))
            .await
            .expect("use"),
        "a recovery code works once"
    );
    assert!(
        !store
            .use_recovery_code(u, "hash-x", t(6), &audit(Action::RecoveryCodeUsed))
            .await
            .expect("use")
    );
    assert_eq!(
        store.count_unused_recovery_codes(u).await.expect("count"),
        2
    );

    store
        .replace_recovery_codes(
            u,
            &["n1".to_owned(), "n2".to_owned()],
            &audit(Action::RecoveryCodesRegenerated),
        )
        .await
        .expect("replace");
    assert_eq!(
        store.count_unused_recovery_codes(u).await.expect("count"),
        2
    );
    assert!(
        !store
            .use_recovery_code(u, "hash-0", t(7), &audit(Action::RecoveryCodeUsed))
            .await
            .expect("use"),
        "old codes are gone"
    );

    store
        .set_mfa(u, None, &[], t(8), &audit(Action::MfaReset))
        .await
        .expect("reset");
    let creds = store.find_credentials(u).await.expect("creds");
    assert!(creds.totp_secret_sealed.is_none());
    assert!(!creds.user.has_mfa());
    assert_eq!(
        store.count_unused_recovery_codes(u).await.expect("count"),
        0
    );
    assert!(
        store.use_totp_step(u, 1).await.expect("step"),
        "the step counter restarts with a new secret"
    );
}

pub async fn staff_assignments(f: &Fixture) {
    let store = &**f;
    let a = tenant(store, "acme").await;
    let b = tenant(store, "bravo").await;
    let s = user(store, "eve@mssp.test", Role::MsspEngineer, None).await;
    assert!(store.list_assignments(s).await.expect("list").is_empty());
    store
        .assign_staff(s, &scope(a), t(1), &audit(Action::StaffAssigned))
        .await
        .expect("assign");
    store
        .assign_staff(s, &scope(a), t(2), &audit(Action::StaffAssigned))
        .await
        .expect("assigning twice is harmless");
    store
        .assign_staff(s, &scope(b), t(1), &audit(Action::StaffAssigned))
        .await
        .expect("assign");
    let mut got = store.list_assignments(s).await.expect("list");
    got.sort();
    let mut want = vec![a, b];
    want.sort();
    assert_eq!(got, want);
    let staff = store.list_assigned_staff(&scope(a)).await.expect("staff");
    assert_eq!(staff.len(), 1);
    assert_eq!(staff[0].id, s);
    store
        .unassign_staff(s, &scope(a), &audit(Action::StaffUnassigned))
        .await
        .expect("unassign");
    assert_eq!(store.list_assignments(s).await.expect("list"), vec![b]);
    assert!(matches!(
        store
            .unassign_staff(s, &scope(a), &audit(Action::StaffUnassigned))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .assign_staff(
                s,
                &scope(TenantId::new()),
                t(1),
                &audit(Action::StaffAssigned)
            )
            .await,
        Err(StoreError::NotFound)
    ));
}

pub async fn sessions_rotate_touch_and_expire(f: &Fixture) {
    let store = &**f;
    let u = user(store, "fay@mssp.test", Role::MsspAdmin, None).await;
    let a = tenant(store, "acme").await;
    let first = session(u, "tok-1", 1000);
    store.create_session(&first).await.expect("create");
    assert_eq!(
        store.find_session("tok-1").await.expect("find"),
        Some(first.clone())
    );
    assert!(store.find_session("tok-x").await.expect("find").is_none());

    let mut second = session(u, "tok-2", 2000);
    second.stage = SessionStage::Full;
    store
        .rotate_session(first.id, &second)
        .await
        .expect("rotate");
    assert!(
        store.find_session("tok-1").await.expect("find").is_none(),
        "old id is dead"
    );
    assert!(
        matches!(
            store
                .rotate_session(first.id, &session(u, "tok-9", 2000))
                .await,
            Err(StoreError::NotFound)
        ),
        "an ended session cannot be rotated back to life"
    );
    assert!(store.find_session("tok-9").await.expect("find").is_none());
    let found = store
        .find_session("tok-2")
        .await
        .expect("find")
        .expect("new");
    assert_eq!(found.stage, SessionStage::Full);

    store.touch_session(second.id, t(50)).await.expect("touch");
    let change = SessionChange {
        stage: Some(SessionStage::MfaEnrolment),
        active_tenant: Some(Some(a)),
        pending_totp_sealed: Some(Some("pending".to_owned())),
    };
    store
        .update_session(second.id, &change)
        .await
        .expect("update");
    let found = store
        .find_session("tok-2")
        .await
        .expect("find")
        .expect("exists");
    assert_eq!(found.last_seen_at, t(50));
    assert_eq!(found.stage, SessionStage::MfaEnrolment);
    assert_eq!(found.active_tenant, Some(a));
    assert_eq!(found.pending_totp_sealed.as_deref(), Some("pending"));
    let clear = SessionChange {
        active_tenant: Some(None),
        pending_totp_sealed: Some(None),
        ..SessionChange::default()
    };
    store
        .update_session(second.id, &clear)
        .await
        .expect("update");
    let found = store
        .find_session("tok-2")
        .await
        .expect("find")
        .expect("exists");
    assert_eq!(found.active_tenant, None);
    assert_eq!(found.pending_totp_sealed, None);
    assert_eq!(found.stage, SessionStage::MfaEnrolment);

    store
        .create_session(&session(u, "tok-3", 500))
        .await
        .expect("create");
    store
        .create_session(&session(u, "tok-4", 3000))
        .await
        .expect("create");
    assert_eq!(
        store
            .delete_expired_sessions(t(1500))
            .await
            .expect("expire"),
        1
    );
    assert!(store.find_session("tok-3").await.expect("find").is_none());
    assert_eq!(
        store
            .delete_user_sessions(u, Some(second.id))
            .await
            .expect("delete"),
        1
    );
    assert!(
        store.find_session("tok-2").await.expect("find").is_some(),
        "kept"
    );
    store.delete_session(second.id).await.expect("delete");
    assert!(store.find_session("tok-2").await.expect("find").is_none());
}

pub async fn tokens_are_owned_revocable_and_touched(f: &Fixture) {
    let store = &**f;
    let u = user(store, "gil@mssp.test", Role::MsspAnalyst, None).await;
    let other = user(store, "hal@mssp.test", Role::MsspAnalyst, None).await;
    let token = ApiToken {
        id: TokenId::new(),
        user_id: u,
        name: "ci".to_owned(),
        prefix: "grn_abcd".to_owned(),
        token_hash: "token-hash".to_owned(),
        created_at: t(1),
        last_used_at: None,
        expires_at: Some(t(10_000)),
        revoked_at: None,
    };
    store
        .create_token(&token, &audit(Action::TokenCreated))
        .await
        .expect("create");
    assert_eq!(
        store.find_token_by_hash("token-hash").await.expect("find"),
        Some(token.clone())
    );
    assert!(
        store
            .find_token_by_hash("nope")
            .await
            .expect("find")
            .is_none()
    );
    assert_eq!(
        store.list_tokens(u).await.expect("list"),
        vec![token.clone()]
    );
    assert!(store.list_tokens(other).await.expect("list").is_empty());

    store.touch_token(token.id, t(20)).await.expect("touch");
    assert_eq!(
        store
            .find_token_by_hash("token-hash")
            .await
            .expect("find")
            .and_then(|t| t.last_used_at),
        Some(t(20))
    );
    assert!(
        matches!(
            store
                .revoke_token(other, token.id, t(30), &audit(Action::TokenRevoked))
                .await,
            Err(StoreError::NotFound)
        ),
        "only the owner's token can be revoked through the owner"
    );
    store
        .revoke_token(u, token.id, t(30), &audit(Action::TokenRevoked))
        .await
        .expect("revoke");
    let revoked = store
        .find_token_by_hash("token-hash")
        .await
        .expect("find")
        .expect("kept");
    assert_eq!(revoked.revoked_at, Some(t(30)));
    assert!(!revoked.is_usable(t(31)));
}

fn ingest_token(tenant: TenantId, name: &str, hash: &str, at: i64) -> IngestToken {
    IngestToken {
        id: garrison_core::IngestTokenId::new(),
        tenant_id: tenant,
        name: name.to_owned(),
        prefix: "gri_abcd".to_owned(),
        token_hash: hash.to_owned(),
        format: "auto".to_owned(),
        allow: vec!["10.0.0.0/8".to_owned(), "2001:db8::/32".to_owned()],
        created_at: t(at),
        last_used_at: None,
        revoked_at: None,
    }
}

pub async fn ingest_tokens_are_scoped_unique_and_revocable(f: &Fixture) {
    let store = &**f;
    let a = tenant(store, "ingest-a").await;
    let b = tenant(store, "ingest-b").await;
    let first = ingest_token(a, "firewall", "hash-1", 1);
    let second = IngestToken {
        allow: Vec::new(),
        format: "cef".to_owned(),
        ..ingest_token(a, "proxy", "hash-2", 2)
    };
    let theirs = ingest_token(b, "firewall", "hash-3", 3);
    for tok in [&first, &second, &theirs] {
        store
            .create_ingest_token(tok, &audit(Action::IngestTokenCreated))
            .await
            .expect("create");
    }
    assert_eq!(
        store
            .find_ingest_token_by_hash("hash-1")
            .await
            .expect("find"),
        Some(first.clone()),
        "every field round-trips, the allow list in order"
    );
    assert!(
        store
            .find_ingest_token_by_hash("nope")
            .await
            .expect("find")
            .is_none()
    );

    // A live name is unique within its tenant (another tenant may reuse it).
    let dup = ingest_token(a, "firewall", "hash-4", 4);
    assert!(matches!(
        store
            .create_ingest_token(&dup, &audit(Action::IngestTokenCreated))
            .await,
        Err(StoreError::Conflict(_))
    ));
    // A token for a tenant that does not exist is refused.
    let orphan = ingest_token(TenantId::new(), "x", "hash-5", 5);
    assert!(matches!(
        store
            .create_ingest_token(&orphan, &audit(Action::IngestTokenCreated))
            .await,
        Err(StoreError::NotFound)
    ));

    // Lists are scoped: newest first within a tenant.
    assert_eq!(
        store
            .list_ingest_tokens(&access_of(&[a]))
            .await
            .expect("list"),
        vec![second.clone(), first.clone()]
    );
    assert_eq!(
        store
            .list_ingest_tokens(&access_of(&[b]))
            .await
            .expect("list"),
        vec![theirs.clone()]
    );
    assert!(
        store
            .list_ingest_tokens(&access_of(&[]))
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(
        store
            .list_ingest_tokens(&op().access())
            .await
            .expect("list")
            .len(),
        3
    );

    // Revoking goes through the token's own tenant only.
    assert!(matches!(
        store
            .revoke_ingest_token(
                &scope(b),
                first.id,
                t(9),
                &audit(Action::IngestTokenRevoked)
            )
            .await,
        Err(StoreError::NotFound)
    ));
    store
        .revoke_ingest_token(
            &scope(a),
            first.id,
            t(10),
            &audit(Action::IngestTokenRevoked),
        )
        .await
        .expect("revoke");
    store
        .revoke_ingest_token(
            &scope(a),
            first.id,
            t(11),
            &audit(Action::IngestTokenRevoked),
        )
        .await
        .expect("revoking again is harmless");
    let revoked = store
        .find_ingest_token_by_hash("hash-1")
        .await
        .expect("find")
        .expect("kept");
    assert_eq!(
        revoked.revoked_at,
        Some(t(10)),
        "the first revocation counts"
    );
    // Its name is free again.
    store
        .create_ingest_token(&dup, &audit(Action::IngestTokenCreated))
        .await
        .expect("a revoked token's name can be reused");

    store
        .touch_ingest_token(second.id, t(20))
        .await
        .expect("touch");
    assert_eq!(
        store
            .find_ingest_token_by_hash("hash-2")
            .await
            .expect("find")
            .and_then(|t| t.last_used_at),
        Some(t(20))
    );
}

pub async fn disabling_and_password_resets_revoke_tokens(f: &Fixture) {
    let store = &**f;
    let a = tenant(store, "acme").await;
    let u = user(store, "ivy@acme.test", Role::CustomerViewer, Some(a)).await;
    let token = |n: &str| ApiToken {
        id: TokenId::new(),
        user_id: u,
        name: n.to_owned(),
        prefix: "grn_x".to_owned(),
        token_hash: format!("hash-{n}"),
        created_at: t(1),
        last_used_at: None,
        expires_at: None,
        revoked_at: None,
    };
    let revoked = |n: &'static str| async move {
        store
            .find_token_by_hash(&format!("hash-{n}"))
            .await
            .expect("find")
            .expect("token")
            .revoked_at
    };
    store
        .create_token(&token("one"), &audit(Action::TokenCreated))
        .await
        .expect("token");
    store
        .set_password(
            u,
            &Secret::from("h2"),
            false,
            false,
            t(2),
            &audit(Action::PasswordChanged),
        )
        .await
        .expect("own change");
    assert_eq!(
        revoked("one").await,
        None,
        "a user's own password change keeps their tokens"
    );
    store
        .set_password(
            u,
            &Secret::from("h3"),
            true,
            true,
            t(3),
            &audit(Action::PasswordReset),
        )
        .await
        .expect("reset");
    assert_eq!(
        revoked("one").await,
        Some(t(3)),
        "an administrator's reset revokes them"
    );

    store
        .create_token(&token("two"), &audit(Action::TokenCreated))
        .await
        .expect("token");
    store
        .create_session(&session(u, "s-ivy", 1000))
        .await
        .expect("session");
    let change = UserChange {
        is_disabled: Some(true),
        ..UserChange::default()
    };
    store
        .update_user(
            &access_of(&[a]),
            u,
            &change,
            t(4),
            &audit(Action::UserUpdated),
        )
        .await
        .expect("disable");
    assert_eq!(revoked("two").await, Some(t(4)), "disabling revokes tokens");
    assert!(
        store.find_session("s-ivy").await.expect("find").is_none(),
        "and ends sessions"
    );
}

pub async fn audit_chain_is_scoped_paged_and_intact(f: &Fixture) {
    let store = &**f;
    let a = tenant(store, "acme").await;
    let b = tenant(store, "bravo").await;
    for i in 0..5 {
        let entry = audit(Action::LoginFailed)
            .tenant(Some(if i % 2 == 0 { a } else { b }))
            .target(format!("attempt-{i}"))
            .source(Some("198.51.100.1".to_owned()))
            .details(&serde_json_lite(i))
            .failed();
        let record = store.append_audit(&entry).await.expect("append");
        assert_eq!(record.target, format!("attempt-{i}"));
        assert_eq!(record.outcome, garrison_core::audit::Outcome::Failure);
    }
    let head = store.audit_head().await.expect("head").expect("some");
    assert_eq!(head.seq, 7, "two tenant creations and five appends");
    assert_eq!(
        head.mac.as_deref(),
        Some(f.key.seal_head(head.seq, &head.hash).as_str()),
        "the head is sealed"
    );

    let all = store
        .list_audit(&op().access(), &AuditQuery::default())
        .await
        .expect("list");
    assert_eq!(all.len(), 7);
    assert!(all.windows(2).all(|w| w[0].seq > w[1].seq), "newest first");

    let only_a = store
        .list_audit(&access_of(&[a]), &AuditQuery::default())
        .await
        .expect("list");
    assert_eq!(only_a.len(), 4, "tenant a's creation and three attempts");
    assert!(only_a.iter().all(|r| r.tenant_id == Some(a)));
    let narrowed = store
        .list_audit(
            &access_of(&[a]),
            &AuditQuery {
                tenant: Some(b),
                ..AuditQuery::default()
            },
        )
        .await
        .expect("list");
    assert!(narrowed.is_empty(), "a tenant filter cannot widen access");

    let page = store
        .list_audit(
            &op().access(),
            &AuditQuery {
                before_seq: Some(5),
                limit: 2,
                tenant: None,
            },
        )
        .await
        .expect("page");
    assert_eq!(page.iter().map(|r| r.seq).collect::<Vec<_>>(), [4, 3]);

    let mut verifier = ChainVerifier::new(&f.key);
    let mut after = 0;
    loop {
        let batch = store.audit_chain_page(after, 3).await.expect("page");
        if batch.is_empty() {
            break;
        }
        for r in &batch {
            verifier.feed(r);
            after = r.seq;
        }
    }
    let report = verifier.finish(Some(head));
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.checked, 7);
}

pub async fn concurrent_audit_appends_keep_one_chain(f: &Fixture) {
    let store = f.store.clone();
    let tasks = (0..24).map(|i| {
        let store = store.clone();
        async move {
            store
                .append_audit(&audit(Action::LoginFailed).target(format!("n{i}")))
                .await
                .expect("append")
        }
    });
    let records = futures_util::future::join_all(tasks).await;
    let mut seqs: Vec<i64> = records.iter().map(|r| r.seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=24).collect::<Vec<_>>());
    let mut verifier = ChainVerifier::new(&f.key);
    for r in store.audit_chain_page(0, 100).await.expect("page") {
        verifier.feed(&r);
    }
    let report = verifier.finish(store.audit_head().await.expect("head"));
    assert!(report.is_intact(), "{report:?}");
}

fn serde_json_lite(i: i32) -> serde_json::Value {
    serde_json::json!({ "attempt": i, "note": "quote \" and <tag>" })
}

// --- inventory ---------------------------------------------------------------

fn asset(tenant: TenantId, name: &str, ip: &str, zone: &str) -> garrison_core::asset::Asset {
    garrison_core::asset::Asset {
        id: garrison_core::AssetId::new(),
        tenant_id: tenant,
        hostname: Some(name.to_owned()),
        fqdn: Some(format!("{name}.corp.test")),
        ips: vec![ip.parse().expect("ip")],
        macs: vec![format!("00:11:22:33:44:{:02x}", name.len())],
        zone: zone.to_owned(),
        os: Some("Debian 12".to_owned()),
        asset_type: Some(garrison_core::asset::AssetType::Server),
        owner: Some("Ops Team".to_owned()),
        business_unit: None,
        location: None,
        services: vec![garrison_core::asset::AssetService {
            port: 443,
            protocol: "tcp".to_owned(),
            name: Some("https".to_owned()),
            product: None,
            version: None,
        }],
        software: Vec::new(),
        tags: ["prod".to_owned()].into(),
        criticality: Some(garrison_core::asset::Criticality::High),
        sensitivity: None,
        regulations: ["PCI-DSS".to_owned()].into(),
        internet_exposed: Some(true),
        sources: [(
            "criticality".to_owned(),
            garrison_core::asset::Source::Manual,
        )]
        .into(),
        first_seen: t(1),
        last_seen: t(2),
        created_at: t(1),
        updated_at: t(2),
    }
}

/// The tenant's inventory version.
async fn version(store: &dyn Store, tenant: TenantId) -> i64 {
    store
        .inventory_version(&scope(tenant))
        .await
        .expect("inventory version")
}

fn write(a: &garrison_core::asset::Asset, is_new: bool, score: f64, kev: u32) -> crate::AssetWrite {
    crate::AssetWrite {
        asset: a.clone(),
        is_new,
        events: vec![crate::AssetEvent {
            at: t(3),
            actor: "conformance".to_owned(),
            kind: if is_new { "created" } else { "updated" }.to_owned(),
            details: "{}".to_owned(),
        }],
        risk: crate::AssetRisk {
            score,
            open_findings: kev,
            max_severity: None,
            kev_findings: kev,
        },
    }
}

pub async fn inventory_assets_are_matched_listed_and_scoped(f: &Fixture) {
    let store = &**f;
    let a = tenant(store, "acme").await;
    let b = tenant(store, "bravo").await;
    let web = asset(a, "web", "10.0.0.5", "dc1");
    let mut db = asset(a, "database", "10.0.0.6", "dc1");
    db.criticality = Some(garrison_core::asset::Criticality::Low);
    db.tags = ["test".to_owned()].into();
    db.internet_exposed = Some(false);
    let other = asset(b, "web", "10.0.0.5", "dc1");
    assert_eq!((version(store, a).await, version(store, b).await), (0, 0));
    let batch = crate::InventoryBatch {
        assets: vec![write(&web, true, 80.0, 1), write(&db, true, 10.0, 0)],
        findings: Vec::new(),
    };
    store
        .write_inventory(&scope(a), &batch, Some(&audit(Action::TenantUpdated)))
        .await
        .expect("write a");
    assert_eq!(
        (version(store, a).await, version(store, b).await),
        (1, 0),
        "a write raises its tenant's inventory version only"
    );
    let batch_b = crate::InventoryBatch {
        assets: vec![write(&other, true, 99.0, 0)],
        findings: Vec::new(),
    };
    store
        .write_inventory(&scope(b), &batch_b, None)
        .await
        .expect("write b");
    // An asset of tenant B cannot be written through tenant A's scope.
    let wrong = crate::InventoryBatch {
        assets: vec![write(&other, false, 1.0, 0)],
        findings: Vec::new(),
    };
    assert!(matches!(
        store.write_inventory(&scope(a), &wrong, None).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        (version(store, a).await, version(store, b).await),
        (1, 1),
        "a write that fails raises nothing"
    );

    let found = store.find_asset(&scope(a), web.id).await.expect("find");
    assert_eq!(found.asset, web, "everything round-trips");
    assert!((found.risk.score - 80.0).abs() < f64::EPSILON);
    assert!(matches!(
        store.find_asset(&scope(b), web.id).await,
        Err(StoreError::NotFound)
    ));

    let by = |keys: crate::AssetKeys| async move {
        let mut ids: Vec<_> = store
            .find_asset_candidates(&scope(a), &keys)
            .await
            .expect("candidates")
            .iter()
            .map(|x| x.id)
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(
        by(crate::AssetKeys {
            macs: web.macs.clone(),
            ..Default::default()
        })
        .await,
        vec![web.id]
    );
    assert_eq!(
        by(crate::AssetKeys {
            names: vec!["WEB.corp.test".to_owned()],
            ..Default::default()
        })
        .await,
        vec![web.id]
    );
    assert_eq!(
        by(crate::AssetKeys {
            ips: vec![("10.0.0.5".parse().expect("ip"), "dc1".to_owned())],
            ..Default::default()
        })
        .await,
        vec![web.id],
        "only tenant A's asset, though B has the same address"
    );
    assert!(
        by(crate::AssetKeys {
            ips: vec![("10.0.0.5".parse().expect("ip"), "dc2".to_owned())],
            ..Default::default()
        })
        .await
        .is_empty(),
        "the same address in another zone is another asset"
    );

    let list = |q: crate::AssetQuery| async move {
        store
            .list_assets(&access_of(&[a]), &q)
            .await
            .expect("list")
            .items
            .iter()
            .map(|r| r.asset.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        list(crate::AssetQuery::default()).await,
        vec![web.id, db.id],
        "by risk"
    );
    assert_eq!(
        list(crate::AssetQuery {
            text: Some("10.0.0.6".into()),
            ..Default::default()
        })
        .await,
        vec![db.id]
    );
    assert_eq!(
        list(crate::AssetQuery {
            text: Some("OPS".into()),
            ..Default::default()
        })
        .await
        .len(),
        2
    );
    assert_eq!(
        list(crate::AssetQuery {
            text: Some("%".into()),
            ..Default::default()
        })
        .await
        .len(),
        0,
        "wildcards are literal"
    );
    assert_eq!(
        list(crate::AssetQuery {
            criticality: Some(garrison_core::asset::Criticality::Low),
            ..Default::default()
        })
        .await,
        vec![db.id]
    );
    assert_eq!(
        list(crate::AssetQuery {
            tag: Some("test".into()),
            ..Default::default()
        })
        .await,
        vec![db.id]
    );
    assert_eq!(
        list(crate::AssetQuery {
            regulation: Some("PCI-DSS".into()),
            ..Default::default()
        })
        .await
        .len(),
        2
    );
    assert_eq!(
        list(crate::AssetQuery {
            internet_exposed: Some(true),
            ..Default::default()
        })
        .await,
        vec![web.id]
    );
    assert_eq!(
        list(crate::AssetQuery {
            has_kev: true,
            ..Default::default()
        })
        .await,
        vec![web.id]
    );
    assert_eq!(
        list(crate::AssetQuery {
            tenant: Some(b),
            ..Default::default()
        })
        .await,
        Vec::new(),
        "a filter cannot widen access"
    );
    let page = store
        .list_assets(
            &op().access(),
            &crate::AssetQuery {
                limit: 1,
                offset: 1,
                ..Default::default()
            },
        )
        .await
        .expect("page");
    assert_eq!((page.items.len(), page.total), (1, 3));

    let mut moved = web.clone();
    moved.ips = vec!["10.9.9.9".parse().expect("ip")];
    moved.hostname = Some("web2".to_owned());
    store
        .write_inventory(
            &scope(a),
            &crate::InventoryBatch {
                assets: vec![write(&moved, false, 5.0, 0)],
                findings: Vec::new(),
            },
            None,
        )
        .await
        .expect("update");
    assert_eq!(version(store, a).await, 2);
    assert!(
        by(crate::AssetKeys {
            names: vec!["web".to_owned()],
            ..Default::default()
        })
        .await
        .is_empty(),
        "old keys go"
    );
    assert_eq!(
        by(crate::AssetKeys {
            names: vec!["web2".to_owned()],
            ..Default::default()
        })
        .await,
        vec![web.id]
    );
    assert_eq!(store.all_assets(&scope(a)).await.expect("all").len(), 2);

    store
        .delete_asset(&scope(a), web.id, &audit(Action::TenantUpdated))
        .await
        .expect("delete");
    assert_eq!(version(store, a).await, 3, "a deletion raises the version");
    assert!(matches!(
        store.find_asset(&scope(a), web.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .delete_asset(&scope(b), db.id, &audit(Action::TenantUpdated))
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        (version(store, a).await, version(store, b).await),
        (3, 1),
        "a refused deletion raises nothing"
    );
    let history: Vec<String> = store
        .asset_events(&scope(a), web.id)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        history,
        ["deleted", "updated", "created"],
        "newest first, kept after deletion"
    );
    assert!(
        store
            .asset_events(&scope(b), web.id)
            .await
            .expect("events")
            .is_empty()
    );
}

fn finding(
    tenant: TenantId,
    asset: garrison_core::AssetId,
    plugin: &str,
    sev: garrison_core::asset::FindingSeverity,
) -> garrison_core::asset::Finding {
    garrison_core::asset::Finding {
        id: garrison_core::FindingId::new(),
        tenant_id: tenant,
        asset_id: asset,
        dedup_key: garrison_core::asset::finding_key("nessus", plugin, Some(443), Some("tcp")),
        scanner: "nessus".to_owned(),
        plugin_id: plugin.to_owned(),
        title: format!("Plugin {plugin}"),
        port: Some(443),
        protocol: Some("tcp".to_owned()),
        cves: vec!["CVE-2021-44228".to_owned()],
        severity: sev,
        cvss2: None,
        cvss3: Some(garrison_core::asset::Score {
            score: 10.0,
            vector: Some("CVSS:3.1/AV:N".to_owned()),
        }),
        cvss4: None,
        description: Some("d".to_owned()),
        solution: None,
        evidence: Some("<script>".to_owned()),
        status: garrison_core::asset::FindingStatus::Open,
        status_reason: None,
        accepted_until: None,
        first_seen: t(1),
        last_seen: t(2),
        fixed_at: None,
        last_import: None,
    }
}

pub async fn inventory_findings_are_upserted_listed_and_scoped(f: &Fixture) {
    use garrison_core::asset::{FindingSeverity as S, FindingStatus};
    let store = &**f;
    let a = tenant(store, "acme").await;
    let b = tenant(store, "bravo").await;
    let web = asset(a, "web", "10.0.0.5", "default");
    let theirs = asset(b, "web", "10.0.0.5", "default");
    let f1 = finding(a, web.id, "1001", S::Critical);
    let mut f2 = finding(a, web.id, "1002", S::Low);
    f2.cves = Vec::new();
    f2.title = "Weak TLS ciphers".to_owned();
    store
        .write_inventory(
            &scope(a),
            &crate::InventoryBatch {
                assets: vec![write(&web, true, 1.0, 0)],
                findings: vec![f1.clone(), f2.clone()],
            },
            None,
        )
        .await
        .expect("write");
    store
        .write_inventory(
            &scope(b),
            &crate::InventoryBatch {
                assets: vec![write(&theirs, true, 1.0, 0)],
                findings: vec![finding(b, theirs.id, "1001", S::High)],
            },
            None,
        )
        .await
        .expect("write b");
    let mut again = f1.clone();
    again.last_seen = t(9);
    again.status = FindingStatus::Reopened;
    store
        .write_inventory(
            &scope(a),
            &crate::InventoryBatch {
                assets: Vec::new(),
                findings: vec![again.clone()],
            },
            None,
        )
        .await
        .expect("upsert");
    let of = store
        .findings_of_assets(&scope(a), &[web.id, theirs.id])
        .await
        .expect("findings");
    assert_eq!(of.len(), 2, "tenant B's asset contributes nothing");
    assert!(
        of.contains(&again) && of.contains(&f2),
        "round trip: {of:?}"
    );

    let list = |q: crate::FindingQuery| async move {
        store
            .list_findings(&access_of(&[a]), &q)
            .await
            .expect("list")
            .items
            .iter()
            .map(|f| f.plugin_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        list(crate::FindingQuery::default()).await,
        ["1001", "1002"],
        "most severe first"
    );
    assert_eq!(
        list(crate::FindingQuery {
            min_severity: Some(S::High),
            ..Default::default()
        })
        .await,
        ["1001"]
    );
    assert_eq!(
        list(crate::FindingQuery {
            cve: Some("cve-2021-44228".into()),
            ..Default::default()
        })
        .await,
        ["1001"]
    );
    assert_eq!(
        list(crate::FindingQuery {
            text: Some("tls".into()),
            ..Default::default()
        })
        .await,
        ["1002"]
    );
    assert_eq!(
        list(crate::FindingQuery {
            status: Some(FindingStatus::Reopened),
            ..Default::default()
        })
        .await,
        ["1001"]
    );
    assert_eq!(
        list(crate::FindingQuery {
            open_only: true,
            ..Default::default()
        })
        .await
        .len(),
        2
    );
    assert_eq!(
        list(crate::FindingQuery {
            asset: Some(theirs.id),
            ..Default::default()
        })
        .await
        .len(),
        0
    );
    assert_eq!(
        store
            .list_findings(&op().access(), &crate::FindingQuery::default())
            .await
            .expect("all")
            .total,
        3
    );

    let change = crate::FindingStatusChange {
        status: FindingStatus::AcceptedRisk,
        reason: "compensating control".to_owned(),
        accepted_until: Some(t(100)),
        at: t(10),
    };
    let changed = store
        .set_finding_status(&scope(a), f2.id, &change, &audit(Action::TenantUpdated))
        .await
        .expect("status");
    assert_eq!(changed.status, FindingStatus::AcceptedRisk);
    assert_eq!(
        changed.status_reason.as_deref(),
        Some("compensating control")
    );
    assert_eq!(changed.accepted_until, Some(t(100)));
    // What correlation reads: open findings only, of the scope's tenant.
    let exposures = store.open_exposures(&scope(a)).await.expect("exposures");
    assert_eq!(
        exposures
            .iter()
            .map(|x| (x.asset_id, x.title.as_str(), x.port))
            .collect::<Vec<_>>(),
        [(web.id, "Plugin 1001", Some(443))],
        "the accepted risk is no longer open; tenant B's finding is not here"
    );
    assert_eq!(exposures[0].cves, ["CVE-2021-44228"]);
    assert_eq!(exposures[0].severity, f1.severity);
    let theirs_open = store.open_exposures(&scope(b)).await.expect("exposures");
    assert_eq!(
        theirs_open.iter().map(|x| x.asset_id).collect::<Vec<_>>(),
        [theirs.id]
    );
    assert!(matches!(
        store
            .set_finding_status(&scope(b), f2.id, &change, &audit(Action::TenantUpdated))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.find_finding(&scope(b), f1.id).await,
        Err(StoreError::NotFound)
    ));
    // A finding of tenant B cannot be written through tenant A's scope.
    let wrong = crate::InventoryBatch {
        assets: Vec::new(),
        findings: vec![finding(b, theirs.id, "9", S::Low)],
    };
    assert!(matches!(
        store.write_inventory(&scope(a), &wrong, None).await,
        Err(StoreError::NotFound)
    ));
    store
        .delete_asset(&scope(a), web.id, &audit(Action::TenantUpdated))
        .await
        .expect("delete");
    assert!(
        matches!(
            store.find_finding(&scope(a), f1.id).await,
            Err(StoreError::NotFound)
        ),
        "findings go with their asset"
    );
}

pub async fn inventory_imports_and_ranges(f: &Fixture) {
    use garrison_core::asset::{
        Import, ImportCounts, ImportKind, ImportRejection, ImportStatus, NetworkRange,
    };
    let store = &**f;
    let a = tenant(store, "acme").await;
    let b = tenant(store, "bravo").await;
    let import = |tenant: Option<TenantId>| Import {
        id: garrison_core::ImportId::new(),
        tenant_id: tenant,
        kind: ImportKind::Scan,
        format: "nessus".to_owned(),
        file_name: "scan.nessus".to_owned(),
        status: ImportStatus::Queued,
        bytes_total: 1000,
        bytes_done: 0,
        counts: ImportCounts::default(),
        rejections: Vec::new(),
        error: None,
        created_by: None,
        created_at: t(1),
        finished_at: None,
    };
    let mine = import(Some(a));
    let shared = import(None);
    store
        .create_import(&mine, Some(&audit(Action::TenantUpdated)))
        .await
        .expect("create");
    store.create_import(&shared, None).await.expect("create");
    store
        .create_import(&import(Some(b)), None)
        .await
        .expect("create");
    let progress = crate::ImportProgress {
        status: ImportStatus::Partial,
        bytes_done: 1000,
        counts: ImportCounts {
            hosts: 3,
            rejected: 1,
            ..ImportCounts::default()
        },
        rejections: vec![ImportRejection {
            line: 7,
            reason: "bad port".to_owned(),
        }],
        error: None,
        finished_at: Some(t(5)),
    };
    store
        .update_import(mine.id, &progress)
        .await
        .expect("update");
    let got = store
        .find_import(&access_of(&[a]), mine.id)
        .await
        .expect("find");
    assert_eq!(
        (
            got.status,
            got.counts.hosts,
            got.rejections.len(),
            got.finished_at
        ),
        (ImportStatus::Partial, 3, 1, Some(t(5)))
    );
    assert!(matches!(
        store.find_import(&access_of(&[b]), mine.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        matches!(
            store.find_import(&access_of(&[a]), shared.id).await,
            Err(StoreError::NotFound)
        ),
        "shared data imports: admins only"
    );
    assert!(store.find_import(&op().access(), shared.id).await.is_ok());
    assert_eq!(
        store
            .list_imports(&access_of(&[a]), 10)
            .await
            .expect("list")
            .len(),
        1
    );
    assert_eq!(
        store
            .list_imports(&op().access(), 10)
            .await
            .expect("list")
            .len(),
        3
    );

    assert_eq!(
        (version(store, a).await, version(store, b).await),
        (0, 0),
        "imports themselves change no inventory"
    );
    let range = NetworkRange {
        id: garrison_core::RangeId::new(),
        tenant_id: a,
        cidr: "10.1.0.0/16".to_owned(),
        zone: "dc1".to_owned(),
        default_criticality: Some(garrison_core::asset::Criticality::High),
        description: Some("data centre".to_owned()),
    };
    store
        .create_range(&scope(a), &range, &audit(Action::TenantUpdated))
        .await
        .expect("range");
    let dup = NetworkRange {
        id: garrison_core::RangeId::new(),
        ..range.clone()
    };
    assert!(matches!(
        store
            .create_range(&scope(a), &dup, &audit(Action::TenantUpdated))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .create_range(&scope(b), &range, &audit(Action::TenantUpdated))
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        (version(store, a).await, version(store, b).await),
        (1, 0),
        "a new range raises the version; refused ones do not"
    );
    assert_eq!(
        store.list_ranges(&scope(a)).await.expect("ranges"),
        vec![range.clone()]
    );
    assert!(
        store
            .list_ranges(&scope(b))
            .await
            .expect("ranges")
            .is_empty()
    );
    assert!(matches!(
        store
            .delete_range(&scope(b), range.id, &audit(Action::TenantUpdated))
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(version(store, a).await, 1);
    store
        .delete_range(&scope(a), range.id, &audit(Action::TenantUpdated))
        .await
        .expect("delete");
    assert_eq!(version(store, a).await, 2, "a deleted range raises it");
    assert!(
        store
            .list_ranges(&scope(a))
            .await
            .expect("ranges")
            .is_empty()
    );

    // Risk weights: per tenant, replaced, and cleared back to the defaults.
    assert_eq!(store.risk_weights(&scope(a)).await.expect("weights"), None);
    for w in ["{\"kev\":3.0}", "{\"kev\":4.0}"] {
        store
            .set_risk_weights(&scope(a), Some(w), t(9), &audit(Action::TenantUpdated))
            .await
            .expect("set");
        assert_eq!(
            store
                .risk_weights(&scope(a))
                .await
                .expect("weights")
                .as_deref(),
            Some(w)
        );
    }
    assert_eq!(
        store.risk_weights(&scope(b)).await.expect("weights"),
        None,
        "another tenant's weights are its own"
    );
    store
        .set_risk_weights(&scope(a), None, t(10), &audit(Action::TenantUpdated))
        .await
        .expect("clear");
    assert_eq!(store.risk_weights(&scope(a)).await.expect("weights"), None);
    assert_eq!(
        (version(store, a).await, version(store, b).await),
        (5, 0),
        "setting and clearing weights raise the version, of that tenant only"
    );
}

fn nvd(id: &str, cvss3: f32, products: &[&str]) -> crate::NvdVuln {
    crate::NvdVuln {
        cve_id: id.to_owned(),
        published: Some("2024-03-29T17:15:21.150".to_owned()),
        description: Some(format!("{id} in {}", products.join(", "))),
        cvss2: None,
        cvss3: Some(garrison_core::asset::Score {
            score: cvss3,
            vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H".to_owned()),
        }),
        cvss4: None,
        matches: products
            .iter()
            .map(|p| crate::VulnMatch {
                criteria: format!("cpe:2.3:a:{p}:{p}:*:*:*:*:*:*:*:*"),
                version_start_including: Some("1.0".to_owned()),
                version_start_excluding: None,
                version_end_including: None,
                version_end_excluding: Some("2.0".to_owned()),
            })
            .collect(),
        products: products.iter().map(|p| (*p).to_owned()).collect(),
    }
}

fn kev(id: &str, added: &str, ransomware: bool) -> crate::KevFact {
    crate::KevFact {
        cve_id: id.to_owned(),
        status: crate::KevStatus {
            added: added.to_owned(),
            due: "2025-01-21".to_owned(),
            ransomware,
        },
    }
}

fn epss(id: &str, score: f64) -> crate::EpssFact {
    crate::EpssFact {
        cve_id: id.to_owned(),
        status: crate::EpssStatus {
            score,
            percentile: 0.5,
        },
    }
}

async fn vuln(store: &dyn Store, id: &str) -> crate::VulnRecord {
    let mut found = store
        .find_vulns(&[id.to_owned()], crate::VulnDetail::WithMatches)
        .await
        .expect("find");
    assert_eq!(found.len(), 1, "{id}");
    found.remove(0)
}

pub async fn vulns_keep_each_sources_columns(f: &Fixture) {
    use crate::UpsertCounts;
    let store = &**f;
    let one = "CVE-2024-0001";
    let two = "CVE-2024-0002";
    // KEV first: the row exists with KEV columns only.
    let done = store
        .replace_kev(&[kev(one, "2024-12-31", true)], t(1))
        .await
        .expect("kev");
    assert_eq!(
        done,
        UpsertCounts {
            inserted: 1,
            updated: 0,
            removed: 0
        }
    );
    // NVD fills its columns and keeps KEV's.
    let done = store
        .upsert_nvd(&[nvd(one, 9.8, &["xz"]), nvd(two, 5.5, &["curl"])], t(2))
        .await
        .expect("nvd");
    assert_eq!((done.inserted, done.updated), (1, 1));
    let r = vuln(store, one).await;
    assert_eq!(
        r.kev.as_ref().map(|k| (k.added.as_str(), k.ransomware)),
        Some(("2024-12-31", true))
    );
    assert_eq!(r.cvss3.as_ref().map(|s| s.score), Some(9.8));
    assert_eq!(r.matches.len(), 1);
    assert_eq!(r.matches[0].version_end_excluding.as_deref(), Some("2.0"));
    assert_eq!(r.updated_at, t(2));
    // EPSS keeps both, and a second EPSS file overwrites the first.
    store
        .upsert_epss(&[epss(one, 0.25), epss(two, 0.5)], t(3))
        .await
        .expect("epss");
    let done = store
        .upsert_epss(&[epss(one, 0.91963)], t(4))
        .await
        .expect("epss again");
    assert_eq!((done.inserted, done.updated), (0, 1));
    let r = vuln(store, one).await;
    assert!((r.epss.expect("epss").score - 0.91963).abs() < 1e-9);
    assert!(r.kev.is_some() && r.cvss3.is_some() && !r.matches.is_empty());
    // A newer NVD record replaces NVD's columns only.
    let mut newer = nvd(one, 10.0, &["xz"]);
    newer.description = Some("rewritten".to_owned());
    store.upsert_nvd(&[newer], t(5)).await.expect("nvd again");
    let r = vuln(store, one).await;
    assert_eq!(r.description.as_deref(), Some("rewritten"));
    assert_eq!(r.cvss3.as_ref().map(|s| s.score), Some(10.0));
    assert!(r.kev.is_some(), "KEV survives an NVD update");
    assert!(r.epss.is_some(), "EPSS survives an NVD update");
    // A new KEV catalogue replaces the old: one drops out, two comes in.
    let done = store
        .replace_kev(&[kev(two, "2025-01-01", false)], t(6))
        .await
        .expect("kev again");
    assert_eq!(
        done,
        UpsertCounts {
            inserted: 0,
            updated: 1,
            removed: 1
        }
    );
    let r = vuln(store, one).await;
    assert!(r.kev.is_none(), "no longer listed");
    assert!(r.cvss3.is_some() && r.epss.is_some());
    assert!(vuln(store, two).await.kev.is_some());
    let counts = store.count_vulns().await.expect("count");
    assert_eq!(
        counts,
        crate::VulnCounts {
            cves: 2,
            with_matches: 2,
            kev: 1,
            epss: 2
        }
    );
}

pub async fn vulns_are_found_by_id_and_by_product(f: &Fixture) {
    let store = &**f;
    store
        .upsert_nvd(
            &[
                nvd("CVE-2024-3094", 10.0, &["xz"]),
                nvd("CVE-2023-4863", 8.8, &["libwebp", "chrome"]),
                nvd("CVE-2022-46285", 7.5, &["libxpm"]),
                // The same CVE twice in one batch: the last one wins.
                nvd("CVE-2022-46285", 7.4, &["libxpm"]),
            ],
            t(1),
        )
        .await
        .expect("nvd");
    let by_id = store
        .find_vulns(
            &[
                "cve-2024-3094".to_owned(),
                "CVE-2023-4863".to_owned(),
                "CVE-1999-0001".to_owned(),
            ],
            crate::VulnDetail::Facts,
        )
        .await
        .expect("find");
    assert_eq!(
        by_id.iter().map(|r| r.cve_id.as_str()).collect::<Vec<_>>(),
        ["CVE-2023-4863", "CVE-2024-3094"],
        "ids compare upper-case; unknown ones are absent"
    );
    assert!(
        by_id.iter().all(|r| r.matches.is_empty()),
        "facts leave the criteria out"
    );
    assert_eq!(
        vuln(store, "CVE-2022-46285").await.cvss3.map(|s| s.score),
        Some(7.4)
    );

    let ids =
        |records: Vec<crate::VulnRecord>| records.into_iter().map(|r| r.cve_id).collect::<Vec<_>>();
    let found = store
        .vulns_for_products(&["libwebp".to_owned(), "xz".to_owned(), "nginx".to_owned()])
        .await
        .expect("products");
    assert!(found.iter().all(|r| !r.matches.is_empty()));
    assert_eq!(ids(found), ["CVE-2023-4863", "CVE-2024-3094"]);
    assert!(
        store
            .vulns_for_products(&["openssl".to_owned()])
            .await
            .expect("none")
            .is_empty()
    );
    // A newer record that no longer names a product stops being a
    // candidate for it.
    store
        .upsert_nvd(&[nvd("CVE-2023-4863", 8.8, &["chrome"])], t(2))
        .await
        .expect("nvd again");
    assert!(
        store
            .vulns_for_products(&["libwebp".to_owned()])
            .await
            .expect("products")
            .is_empty()
    );
    assert_eq!(
        ids(store
            .vulns_for_products(&["chrome".to_owned()])
            .await
            .expect("products")),
        ["CVE-2023-4863"]
    );
    // Many ids in one lookup.
    let many: Vec<String> = (0..1200).map(|i| format!("CVE-2020-{i:05}")).collect();
    assert!(
        store
            .find_vulns(&many, crate::VulnDetail::Facts)
            .await
            .expect("many")
            .is_empty()
    );
}

pub async fn vulns_take_large_epss_batches(f: &Fixture) {
    let store = &**f;
    let rows: Vec<crate::EpssFact> = (0..5_000)
        .map(|i| epss(&format!("CVE-2021-{i:05}"), f64::from(i) / 5_000.0))
        .collect();
    let done = store.upsert_epss(&rows, t(1)).await.expect("epss");
    assert_eq!((done.inserted, done.updated), (5_000, 0));
    let done = store
        .upsert_epss(&rows[..2_500], t(2))
        .await
        .expect("again");
    assert_eq!((done.inserted, done.updated), (0, 2_500));
    let r = vuln(store, "CVE-2021-04999").await;
    assert!((r.epss.expect("epss").score - 0.9998).abs() < 1e-9);
    assert!(r.kev.is_none() && r.cvss3.is_none() && r.matches.is_empty());
    assert_eq!(store.count_vulns().await.expect("count").epss, 5_000);
}

pub async fn inventory_scores_may_be_missing_then_present(f: &Fixture) {
    use garrison_core::asset::{FindingSeverity as S, Score};
    // A statement first run with a missing score must still take a real
    // one later on the same connection (in one batch, as imports write).
    let store = &**f;
    let a = tenant(store, "acme").await;
    let web = asset(a, "web", "10.0.0.5", "default");
    store
        .write_inventory(
            &scope(a),
            &crate::InventoryBatch {
                assets: vec![write(&web, true, 1.0, 0)],
                findings: Vec::new(),
            },
            None,
        )
        .await
        .expect("asset");
    let mut written = Vec::new();
    for i in 0..12_u8 {
        let mut x = finding(a, web.id, &format!("{}", 2000 + u32::from(i)), S::Medium);
        let score = |v: f32| {
            Some(Score {
                score: v,
                vector: None,
            })
        };
        (x.cvss2, x.cvss3, x.cvss4) = if i % 2 == 0 {
            (None, None, None)
        } else {
            (score(6.4), score(9.8), score(8.7))
        };
        written.push(x);
    }
    for batch in written.chunks(4) {
        store
            .write_inventory(
                &scope(a),
                &crate::InventoryBatch {
                    assets: Vec::new(),
                    findings: batch.to_vec(),
                },
                None,
            )
            .await
            .expect("findings");
    }
    let read = store
        .findings_of_assets(&scope(a), &[web.id])
        .await
        .expect("findings");
    for w in &written {
        let r = read.iter().find(|r| r.id == w.id).expect("written");
        assert_eq!(
            (&r.cvss2, &r.cvss3, &r.cvss4),
            (&w.cvss2, &w.cvss3, &w.cvss4),
            "scores round-trip exactly"
        );
    }
}

fn ev(tenant: TenantId, ms: i64, fields: &[(&str, garrison_core::event::Value)]) -> Event {
    let mut f = Fields::new();
    for (n, v) in fields {
        f.set((*n).to_owned(), v.clone());
    }
    Event {
        id: garrison_core::EventId::new(),
        tenant_id: tenant,
        timestamp: t(ms),
        received_at: t(ms + 5),
        source_id: "listener:udp-514".to_owned(),
        parser: "rfc5424".to_owned(),
        severity: 40,
        fields: f,
        original: format!("<134>1 event at {ms}"),
    }
}

fn ip(s: &str) -> garrison_core::event::Value {
    garrison_core::event::Value::Ip(s.parse().expect("ip"))
}

async fn search(
    store: &dyn Store,
    access: &garrison_core::TenantAccess,
    q: EventQuery,
) -> crate::Page<Event> {
    store.search_events(access, &q).await.expect("search")
}

fn ids(page: &crate::Page<Event>) -> Vec<garrison_core::EventId> {
    page.items.iter().map(|e| e.id).collect()
}

pub async fn events_round_trip_exactly_and_reinserts_are_no_ops(f: &Fixture) {
    use garrison_core::event::Value as V;
    let store = &**f;
    let a = tenant(store, "acme").await;
    let mut e = ev(
        a,
        10,
        &[
            ("source.ip", ip("10.0.0.5")),
            ("destination.ip", ip("2001:db8::7")),
            ("destination.port", V::Int(443)),
            ("event.duration", V::Float(1.5)),
            ("network.transport", V::from("tcp")),
            ("tls.established", V::Bool(true)),
            ("related.ip", V::List(vec![ip("10.0.0.5"), ip("::1")])),
            (
                "labels.mixed",
                V::List(vec![V::Int(1), V::from("x"), V::Bool(false)]),
            ),
            ("user.name", V::from("10.9.9.9")),
            (
                "http.request.body",
                V::from("<script>alert(\"x&y\")</script> 'q' \\ %_ é 🛡"),
            ),
        ],
    );
    e.original =
        "<134>1 - <script>alert('x')</script> \"q\" \\n %_ &amp; é 🛡\ttab,comma\r\nline \\N \"\""
            .to_owned();
    e.severity = 73;
    let other = ev(a, 20, &[("source.ip", ip("10.0.0.6"))]);
    let n = store
        .insert_events(&[e.clone(), other.clone()])
        .await
        .expect("insert");
    assert_eq!(n, 2);
    let back = store.get_event(&op().access(), e.id).await.expect("get");
    assert_eq!(back, e, "every field comes back typed and byte-identical");
    assert_eq!(back.original.as_bytes(), e.original.as_bytes());
    assert_eq!(
        back.fields.get("user.name"),
        Some(&V::from("10.9.9.9")),
        "text that reads as an address stays text"
    );

    // At-least-once delivery: the same events again add nothing.
    assert_eq!(store.insert_events(&[e.clone()]).await.expect("again"), 0);
    let mut third = ev(a, 30, &[]);
    // Empty text stays empty text (PostgreSQL's COPY must not read NULL).
    third.original = String::new();
    third.source_id = String::new();
    assert_eq!(
        store
            .insert_events(&[other.clone(), third.clone(), third.clone()])
            .await
            .expect("mixed"),
        1,
        "only the new event counts, even when a batch repeats it"
    );
    assert_eq!(store.insert_events(&[]).await.expect("empty"), 0);
    let page = search(store, &access_of(&[a]), EventQuery::default()).await;
    assert_eq!(page.total, 3);
    assert_eq!(ids(&page), vec![third.id, other.id, e.id]);
    assert_eq!(page.items[2], e);

    assert!(matches!(
        store
            .get_event(&op().access(), garrison_core::EventId::new())
            .await,
        Err(StoreError::NotFound)
    ));
}

pub async fn events_are_paged_newest_first(f: &Fixture) {
    let store = &**f;
    let a = tenant(store, "acme").await;
    // Many events in one batch (several statements on every backend), a
    // run of them sharing one timestamp.
    let mut batch: Vec<Event> = (0..1_210).map(|i| ev(a, i / 3, &[])).collect();
    batch.reverse();
    assert_eq!(store.insert_events(&batch).await.expect("insert"), 1_210);
    let mut expected: Vec<(Timestamp, String)> = batch
        .iter()
        .map(|e| (e.timestamp, e.id.to_string()))
        .collect();
    expected.sort();
    expected.reverse();

    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = search(
            store,
            &access_of(&[a]),
            EventQuery {
                after,
                limit: 7,
                ..EventQuery::default()
            },
        )
        .await;
        assert_eq!(page.total, 1_210, "the total ignores the cursor");
        let Some(last) = page.items.last() else {
            break;
        };
        after = Some(EventCursor::after(last));
        seen.extend(page.items.iter().map(|e| (e.timestamp, e.id.to_string())));
        pages += 1;
        assert!(pages < 200, "pagination ends");
    }
    assert_eq!(
        seen, expected,
        "newest first by (time, id), nothing lost or repeated"
    );

    let big = search(
        store,
        &access_of(&[a]),
        EventQuery {
            limit: 5_000,
            ..EventQuery::default()
        },
    )
    .await;
    assert_eq!(
        big.items.len(),
        crate::MAX_EVENT_PAGE as usize,
        "limit is capped"
    );

    // Time range: from inclusive, until exclusive.
    let window = search(
        store,
        &access_of(&[a]),
        EventQuery {
            from: Some(t(10)),
            until: Some(t(12)),
            ..EventQuery::default()
        },
    )
    .await;
    assert_eq!(window.total, 6);
    assert!(
        window
            .items
            .iter()
            .all(|e| e.timestamp >= t(10) && e.timestamp < t(12))
    );
}

pub async fn events_are_filtered_and_counted(f: &Fixture) {
    use garrison_core::event::Value as V;
    let store = &**f;
    let a = tenant(store, "acme").await;
    let all = access_of(&[a]);
    let mut e1 = ev(
        a,
        1,
        &[
            ("source.ip", ip("10.1.2.3")),
            ("destination.ip", ip("192.0.2.10")),
            ("destination.port", V::Int(443)),
            ("user.name", V::from("Alice")),
            ("tls.established", V::Bool(true)),
        ],
    );
    e1.original = "Accepted password for ALICE from 10.1.2.3".to_owned();
    e1.severity = 20;
    let mut e2 = ev(
        a,
        2,
        &[
            ("source.ip", ip("2001:db8:1::5")),
            ("destination.ip", ip("10.200.0.1")),
            ("destination.port", V::Int(22)),
            ("user.name", V::from("bob_admin")),
        ],
    );
    e2.original = "Failed password for bob 100% sure".to_owned();
    e2.severity = 70;
    e2.parser = "cef".to_owned();
    let mut e3 = ev(
        a,
        3,
        &[
            ("source.ip", ip("::ffff:10.1.9.9")),
            ("destination.port", V::Int(443)),
            ("user.name", V::from("carol")),
        ],
    );
    e3.severity = 90;
    e3.parser = "cef".to_owned();
    let e4 = ev(
        a,
        4,
        &[
            ("destination.ip", ip("2001:db8:2::1")),
            ("event.duration", V::Float(100.0)),
            ("related.user", V::List(vec![V::from("a"), V::from("B")])),
        ],
    );
    let stored = [e1.clone(), e2.clone(), e3.clone(), e4.clone()];
    store.insert_events(&stored).await.expect("insert");
    // Every search is also decided in memory (the live feed's matcher),
    // which must give the same answer as the backend's SQL.
    let by = |filters: Vec<EventFilter>| {
        let all = all.clone();
        let in_memory: Vec<_> = stored
            .iter()
            .rev()
            .filter(|e| crate::events::matches_all(&filters, e))
            .map(|e| e.id)
            .collect();
        async move {
            let page = search(
                store,
                &all,
                EventQuery {
                    filters: filters.clone(),
                    ..EventQuery::default()
                },
            )
            .await;
            assert_eq!(page.total as usize, page.items.len());
            assert_eq!(
                ids(&page),
                in_memory,
                "SQL and the in-memory matcher disagree on {filters:?}"
            );
            ids(&page)
        }
    };
    let eq = |n: &str, v: &str| EventFilter::FieldEquals(n.to_owned(), v.to_owned());
    let has = |n: &str, v: &str| EventFilter::FieldContains(n.to_owned(), v.to_owned());
    let cidr = |n: Option<&str>, c: &str| EventFilter::IpIn(n.map(str::to_owned), c.to_owned());

    assert_eq!(
        by(vec![eq("destination.port", "443")]).await,
        vec![e3.id, e1.id]
    );
    assert_eq!(by(vec![eq("user.name", "Alice")]).await, vec![e1.id]);
    assert_eq!(
        by(vec![eq("user.name", "alice")]).await,
        vec![],
        "equals is exact"
    );
    assert_eq!(by(vec![eq("source.ip", "10.1.2.3")]).await, vec![e1.id]);
    assert_eq!(by(vec![eq("tls.established", "true")]).await, vec![e1.id]);
    assert_eq!(by(vec![eq("no.such.field", "x")]).await, vec![]);
    assert_eq!(by(vec![eq("event.duration", "100.0")]).await, vec![e4.id]);
    assert_eq!(by(vec![has("event.duration", "00.")]).await, vec![e4.id]);
    assert_eq!(
        by(vec![eq("related.user", r#"["a","B"]"#)]).await,
        vec![e4.id],
        "a list equals its JSON text"
    );
    assert_eq!(by(vec![has("related.user", "\"b\"")]).await, vec![e4.id]);
    assert_eq!(by(vec![has("tls.established", "RU")]).await, vec![e1.id]);
    assert_eq!(
        by(vec![eq("destination.ip", "2001:db8:2::1")]).await,
        vec![e4.id]
    );
    assert_eq!(by(vec![has("user.name", "ADMIN")]).await, vec![e2.id]);
    assert_eq!(
        by(vec![has("user.name", "_")]).await,
        vec![e2.id],
        "LIKE wildcards are taken literally"
    );
    assert_eq!(
        by(vec![has("destination.port", "44")]).await,
        vec![e3.id, e1.id]
    );

    assert_eq!(
        by(vec![cidr(None, "10.0.0.0/8")]).await,
        vec![e3.id, e2.id, e1.id]
    );
    assert_eq!(
        by(vec![cidr(Some("source.ip"), "10.1.0.0/16")]).await,
        vec![e3.id, e1.id]
    );
    assert_eq!(
        by(vec![cidr(Some("destination.ip"), "10.0.0.0/8")]).await,
        vec![e2.id]
    );
    assert_eq!(
        by(vec![cidr(None, "10.1.2.3")]).await,
        vec![e1.id],
        "a bare address"
    );
    assert_eq!(by(vec![cidr(None, "10.1.2.3/32")]).await, vec![e1.id]);
    assert_eq!(
        by(vec![cidr(None, "2001:db8::/32")]).await,
        vec![e4.id, e2.id]
    );
    assert_eq!(
        by(vec![cidr(Some("source.ip"), "2001:db8:1::/48")]).await,
        vec![e2.id]
    );
    assert_eq!(by(vec![cidr(None, "192.0.2.0/24")]).await, vec![e1.id]);
    assert_eq!(
        by(vec![cidr(None, "0.0.0.0/0")]).await.len(),
        3,
        "every IPv4 address"
    );

    assert_eq!(
        by(vec![EventFilter::Text("password FOR".into())]).await,
        vec![e2.id, e1.id]
    );
    assert_eq!(
        by(vec![EventFilter::Text("100%".into())]).await,
        vec![e2.id]
    );
    assert_eq!(by(vec![EventFilter::Text("1%".into())]).await, vec![]);
    assert_eq!(
        by(vec![EventFilter::SeverityAtLeast(70)]).await,
        vec![e3.id, e2.id]
    );
    assert_eq!(
        by(vec![EventFilter::Parser("cef".into())]).await,
        vec![e3.id, e2.id]
    );
    assert_eq!(
        by(vec![
            EventFilter::Parser("cef".into()),
            eq("destination.port", "443"),
            cidr(None, "10.0.0.0/8"),
        ])
        .await,
        vec![e3.id],
        "conditions combine"
    );

    let counts = store
        .count_events_by(&all, &EventQuery::default(), "destination.port", 10)
        .await
        .expect("counts");
    assert_eq!(counts, vec![("443".to_owned(), 2), ("22".to_owned(), 1)]);
    let counts = store
        .count_events_by(
            &all,
            &EventQuery {
                filters: vec![EventFilter::SeverityAtLeast(50)],
                ..EventQuery::default()
            },
            "source.ip",
            1,
        )
        .await
        .expect("counts");
    assert_eq!(counts.len(), 1, "top N");
    assert_eq!(counts[0].1, 1);

    // Hostile field names and bad CIDRs are refused, never run.
    for filter in [
        eq("x') OR 1=1 --", "y"),
        has("a\"b", "y"),
        eq("$.a", "y"),
        cidr(Some("user.name"), "10.0.0.0/8"),
        cidr(None, "10.0.0.0/33"),
        cidr(None, "'; DROP TABLE events; --"),
    ] {
        let q = EventQuery {
            filters: vec![filter.clone()],
            ..EventQuery::default()
        };
        assert!(q.invalid_part().is_some(), "{filter:?}");
        assert!(store.search_events(&all, &q).await.is_err(), "{filter:?}");
        assert!(
            store
                .count_events_by(&all, &q, "user.name", 5)
                .await
                .is_err(),
            "{filter:?}"
        );
    }
    assert!(
        store
            .count_events_by(&all, &EventQuery::default(), "a' || 'b", 5)
            .await
            .is_err()
    );
    assert_eq!(
        search(store, &all, EventQuery::default()).await.total,
        4,
        "nothing was harmed"
    );
}

pub async fn events_are_isolated_by_tenant(f: &Fixture) {
    let store = &**f;
    let a = tenant(store, "acme").await;
    let b = tenant(store, "bravo").await;
    let ea = ev(
        a,
        1,
        &[("user.name", "alice".into()), ("source.ip", ip("10.0.0.1"))],
    );
    let eb = ev(
        b,
        2,
        &[("user.name", "bob".into()), ("source.ip", ip("10.0.0.2"))],
    );
    store
        .insert_events(&[ea.clone(), eb.clone()])
        .await
        .expect("insert");

    let only_b = access_of(&[b]);
    let q = EventQuery::default();
    assert_eq!(ids(&search(store, &only_b, q.clone()).await), vec![eb.id]);
    let page = search(
        store,
        &only_b,
        EventQuery {
            tenant: Some(a),
            ..EventQuery::default()
        },
    )
    .await;
    assert!(page.items.is_empty(), "naming another tenant shows nothing");
    assert_eq!(page.total, 0);
    for filter in [
        EventFilter::FieldEquals("user.name".into(), "alice".into()),
        EventFilter::IpIn(None, "10.0.0.1".into()),
        EventFilter::Text("event".into()),
    ] {
        let q = EventQuery {
            filters: vec![filter],
            ..EventQuery::default()
        };
        let page = search(store, &only_b, q).await;
        assert!(page.items.iter().all(|e| e.tenant_id == b));
    }
    assert!(matches!(
        store.get_event(&only_b, ea.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.get_event(&access_of(&[]), eb.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.get_event(&only_b, eb.id).await.expect("own").id,
        eb.id
    );
    let counts = store
        .count_events_by(&only_b, &q, "user.name", 10)
        .await
        .expect("counts");
    assert_eq!(counts, vec![("bob".to_owned(), 1)]);
    assert!(
        store
            .count_events_by(&access_of(&[]), &q, "user.name", 10)
            .await
            .expect("counts")
            .is_empty()
    );
    assert!(
        search(store, &access_of(&[]), q.clone())
            .await
            .items
            .is_empty()
    );

    let both = search(store, &access_of(&[a, b]), q.clone()).await;
    assert_eq!(ids(&both), vec![eb.id, ea.id]);
    assert_eq!(search(store, &op().access(), q).await.total, 2);
}

pub async fn event_retention_purges_only_old_events_of_the_tenant(f: &Fixture) {
    let store = &**f;
    let a = tenant(store, "acme").await;
    let b = tenant(store, "bravo").await;
    assert_eq!(
        store.event_retention_days(&scope(a)).await.expect("days"),
        crate::DEFAULT_EVENT_RETENTION_DAYS
    );
    let thirty = std::num::NonZeroU32::new(30).expect("non-zero");
    store
        .set_event_retention_days(&scope(a), thirty, t(5), &audit(Action::TenantUpdated))
        .await
        .expect("set");
    store
        .set_event_retention_days(
            &scope(a),
            std::num::NonZeroU32::new(7).expect("non-zero"),
            t(6),
            &audit(Action::TenantUpdated),
        )
        .await
        .expect("set again");
    assert_eq!(
        store.event_retention_days(&scope(a)).await.expect("days"),
        7
    );
    assert_eq!(
        store.event_retention_days(&scope(b)).await.expect("days"),
        90
    );

    let old_a = ev(a, 100, &[]);
    let new_a = ev(a, 200, &[]);
    let edge_a = ev(a, 150, &[]);
    let old_b = ev(b, 100, &[]);
    store
        .insert_events(&[old_a.clone(), new_a.clone(), edge_a.clone(), old_b.clone()])
        .await
        .expect("insert");
    assert_eq!(
        store.purge_events(&scope(a), t(150)).await.expect("purge"),
        1
    );
    let left = search(store, &access_of(&[a]), EventQuery::default()).await;
    assert_eq!(
        ids(&left),
        vec![new_a.id, edge_a.id],
        "the cut-off is exclusive"
    );
    assert_eq!(
        ids(&search(store, &access_of(&[b]), EventQuery::default()).await),
        vec![old_b.id],
        "another tenant's old events stay"
    );
    assert_eq!(
        store.purge_events(&scope(a), t(150)).await.expect("again"),
        0
    );
}

fn new_alert(
    tenant: TenantId,
    at_ms: i64,
    rule: &str,
    source: &str,
    relevance: f64,
) -> garrison_core::offense::NewAlert {
    use garrison_core::offense::{Breakdown, Detector, DetectorKind, OffenseKey, Part, Weights};
    garrison_core::offense::NewAlert {
        tenant_id: tenant,
        event_id: garrison_core::EventId::new(),
        at: t(at_ms),
        detector: Detector {
            kind: DetectorKind::Sensor,
            key: format!("suricata:{rule}"),
            title: format!("rule {rule}"),
        },
        key: OffenseKey {
            field: "source.ip".to_owned(),
            value: source.to_owned(),
        },
        assets: vec![garrison_core::offense::InvolvedAsset {
            id: garrison_core::AssetId::new(),
            name: format!("asset-{at_ms}"),
        }],
        breakdown: Breakdown::new(
            Part::of(5.0, "sev"),
            Part::of(6.0, "cred"),
            Part::of(relevance, format!("relevance {relevance}")),
            Weights::default(),
        ),
        contributing: Vec::new(),
    }
}

/// A threshold or sequence detection links the earlier events that made
/// it: listed with the offense's events, counted once, and linked again
/// without error when a later detection shares them.
pub async fn alerts_link_their_contributing_events(f: &Fixture) {
    let store = &**f;
    let a = tenant(store, "acme").await;
    let hour = 3_600_000;
    let earlier: Vec<(Timestamp, garrison_core::EventId)> = (0..3)
        .map(|i| (t(1_000 * i), garrison_core::EventId::new()))
        .collect();
    let mut first = new_alert(a, 5_000, "scan", "203.0.113.9", 2.0);
    first.contributing.clone_from(&earlier);
    let rec = store
        .record_alerts(std::slice::from_ref(&first), hour, t(6_000))
        .await
        .expect("record");
    assert_eq!((rec.new, rec.opened.len()), (1, 1));
    let offense = rec.opened[0];
    let access = access_of(&[a]);
    let o = store.find_offense(&access, offense).await.expect("offense");
    assert_eq!(o.event_count, 1, "one detection, one alert");
    let events = store
        .offense_events(&access, offense, 100)
        .await
        .expect("events");
    let mut want: Vec<_> = earlier.iter().map(|(_, id)| *id).collect();
    want.push(first.event_id);
    assert_eq!(events, want, "oldest first, the detection's own last");

    // A second detection sharing two of those events links the new one.
    let fresh = garrison_core::EventId::new();
    let mut second = new_alert(a, 7_000, "scan", "203.0.113.9", 2.0);
    second.contributing = vec![earlier[1], earlier[2], (t(6_500), fresh)];
    let rec = store
        .record_alerts(std::slice::from_ref(&second), hour, t(8_000))
        .await
        .expect("second");
    assert_eq!((rec.new, rec.grown.as_slice()), (1, [offense].as_slice()));
    let events = store
        .offense_events(&access, offense, 100)
        .await
        .expect("events");
    assert_eq!(events.len(), 6, "{events:?}");
    assert!(events.contains(&fresh));
    let o = store.find_offense(&access, offense).await.expect("offense");
    assert_eq!(o.event_count, 2);
    // Another tenant sees none of it.
    let other = tenant(store, "bravo").await;
    assert!(matches!(
        store
            .offense_events(&access_of(&[other]), offense, 100)
            .await,
        Err(crate::StoreError::NotFound)
    ));
}

pub async fn offenses_group_alerts_score_and_stay_in_their_tenant(f: &Fixture) {
    use garrison_core::offense::OffenseStatus;
    let store = &**f;
    let a = tenant(store, "acme").await;
    let b = tenant(store, "bravo").await;
    let hour = 3_600_000;
    let first = new_alert(a, 0, "1", "203.0.113.9", 2.0);
    let batch = vec![
        first.clone(),
        // Same rule and source within the window: the same offense, and
        // its relevance now peaks at 10.
        new_alert(a, 60_000, "1", "203.0.113.9", 10.0),
        // Another source: another offense.
        new_alert(a, 60_000, "1", "198.51.100.7", 2.0),
        // Another tenant, same rule and source: its own offense.
        new_alert(b, 60_000, "1", "203.0.113.9", 2.0),
    ];
    let rec = store
        .record_alerts(&batch, hour, t(100))
        .await
        .expect("record");
    assert_eq!((rec.new, rec.duplicates, rec.opened.len()), (4, 0, 3));

    // The batch delivered again records nothing and changes nothing.
    let again = store
        .record_alerts(&batch, hour, t(200))
        .await
        .expect("again");
    assert_eq!((again.new, again.duplicates), (0, 4));

    let only_a = access_of(&[a]);
    let page = store
        .list_offenses(&only_a, &crate::OffenseQuery::default())
        .await
        .expect("list");
    assert_eq!(page.total, 2);
    let top = &page.items[0];
    assert_eq!(top.key.value, "203.0.113.9", "the higher magnitude first");
    assert_eq!(top.event_count, 2);
    assert_eq!((top.first_seen, top.last_seen), (t(0), t(60_000)));
    assert_eq!(top.assets.len(), 2);
    assert!((top.breakdown.relevance.value - 10.0).abs() < f64::EPSILON);
    assert_eq!(top.breakdown.relevance.reasons[0].text, "relevance 10");
    assert!(top.magnitude() > page.items[1].magnitude());
    assert_eq!(top.status, OffenseStatus::Open);
    let events = store
        .offense_events(&only_a, top.id, 100)
        .await
        .expect("events");
    assert_eq!(events, vec![batch[0].event_id, batch[1].event_id]);
    // Retention takes the alerts with the events; the offense stays.
    store
        .purge_events(&scope(b), t(120_000))
        .await
        .expect("purge b");
    assert_eq!(
        store
            .offense_events(&only_a, top.id, 100)
            .await
            .expect("a untouched")
            .len(),
        2
    );

    // Later than the window after the last alert: a new offense.
    let late = new_alert(a, 60_000 + 2 * hour, "1", "203.0.113.9", 2.0);
    let rec = store
        .record_alerts(std::slice::from_ref(&late), hour, t(300))
        .await
        .expect("late");
    assert_eq!(rec.opened.len(), 1);
    assert!(!rec.opened.contains(&top.id));
    // Within the window of an open offense: it grows.
    let more = new_alert(a, 120_000, "1", "198.51.100.7", 2.0);
    let rec = store
        .record_alerts(std::slice::from_ref(&more), hour, t(400))
        .await
        .expect("more");
    assert_eq!((rec.opened.len(), rec.grown.len()), (0, 1));

    // Tenant B sees its own offense only; A's are not found through B.
    let only_b = access_of(&[b]);
    let theirs = store
        .list_offenses(&only_b, &crate::OffenseQuery::default())
        .await
        .expect("list b");
    assert_eq!(theirs.total, 1);
    assert!(theirs.items.iter().all(|o| o.tenant_id == b));
    let named = store
        .list_offenses(
            &only_b,
            &crate::OffenseQuery {
                tenant: Some(a),
                ..Default::default()
            },
        )
        .await
        .expect("named");
    assert_eq!(named.total, 0);
    assert!(matches!(
        store.find_offense(&only_b, top.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.offense_events(&only_b, top.id, 10).await,
        Err(StoreError::NotFound)
    ));
    let theirs_id = theirs.items[0].id;
    assert!(
        store
            .offense_events(&only_b, theirs_id, 10)
            .await
            .expect("b's")
            .is_empty(),
        "purged with b's events"
    );
    store
        .purge_events(&scope(a), t(10 * hour))
        .await
        .expect("purge a");
    assert!(
        store
            .offense_events(&only_a, top.id, 100)
            .await
            .expect("a")
            .is_empty()
    );
    assert_eq!(
        store
            .find_offense(&only_a, top.id)
            .await
            .expect("kept")
            .event_count,
        2
    );
    let filtered = store
        .list_offenses(
            &only_a,
            &crate::OffenseQuery {
                min_magnitude_x10: Some(x10_of(top.magnitude())),
                ..Default::default()
            },
        )
        .await
        .expect("min magnitude");
    assert_eq!(
        filtered.items.iter().map(|o| o.id).collect::<Vec<_>>(),
        [top.id]
    );
    // The same alert twice in one batch is recorded once.
    let twice = new_alert(a, 5 * hour, "9", "192.0.2.99", 2.0);
    let rec = store
        .record_alerts(&[twice.clone(), twice], hour, t(500))
        .await
        .expect("twice");
    assert_eq!((rec.new, rec.duplicates, rec.opened.len()), (1, 1, 1));
}

fn x10_of(m: f64) -> i64 {
    #[allow(clippy::cast_possible_truncation)]
    let v = (m * 10.0).round() as i64;
    v
}

pub async fn offense_triage_comments_and_suppressions(f: &Fixture) {
    use garrison_core::offense::{
        DetectorKind, OffenseComment, OffenseKey, OffenseStatus, Resolution, Suppression,
        TriageAction,
    };
    let store = &**f;
    let a = tenant(store, "acme").await;
    let b = tenant(store, "bravo").await;
    let hour = 3_600_000;
    let rec = store
        .record_alerts(&[new_alert(a, 0, "7", "203.0.113.9", 3.0)], hour, t(0))
        .await
        .expect("record");
    let id = rec.opened[0];
    let analyst = user(store, "analyst@mssp.test", Role::MsspAnalyst, None).await;
    let o = store
        .triage_offense(
            &scope(a),
            id,
            &TriageAction::Assign(Some(analyst)),
            t(1),
            &audit(Action::OffenseAssigned),
        )
        .await
        .expect("assign");
    assert_eq!(o.assignee, Some(analyst));
    assert!(matches!(
        store
            .triage_offense(
                &scope(b),
                id,
                &TriageAction::Reopen,
                t(1),
                &audit(Action::OffenseReopened)
            )
            .await,
        Err(StoreError::NotFound)
    ));
    let o = store
        .triage_offense(
            &scope(a),
            id,
            &TriageAction::RequestEscalation {
                reason: "customer must patch".into(),
            },
            t(2),
            &audit(Action::OffenseEscalationRequested),
        )
        .await
        .expect("escalate");
    assert_eq!(o.escalation_requested_at, Some(t(2)));
    let o = store
        .triage_offense(
            &scope(a),
            id,
            &TriageAction::Close {
                resolution: Resolution::FalsePositive,
                reason: "the tenant's own scanner".into(),
            },
            t(3),
            &audit(Action::OffenseClosed),
        )
        .await
        .expect("close");
    assert_eq!(
        (o.status, o.resolution, o.closed_at),
        (
            OffenseStatus::Closed,
            Some(Resolution::FalsePositive),
            Some(t(3))
        )
    );

    // Comments: internal ones only for those who ask for them.
    for (body, shared) in [("internal note", false), ("shared note", true)] {
        store
            .add_offense_comment(
                &scope(a),
                &OffenseComment {
                    id: garrison_core::ids::CommentId::new(),
                    offense_id: id,
                    tenant_id: a,
                    author_id: Some(analyst),
                    author: "analyst@mssp.test".to_owned(),
                    body: body.to_owned(),
                    shared,
                    created_at: t(4),
                },
                &audit(Action::OffenseCommented),
            )
            .await
            .expect("comment");
    }
    let all = store
        .offense_comments(&access_of(&[a]), id, true)
        .await
        .expect("all");
    assert_eq!(all.len(), 2);
    let shared = store
        .offense_comments(&access_of(&[a]), id, false)
        .await
        .expect("shared");
    assert_eq!(
        shared.iter().map(|c| c.body.as_str()).collect::<Vec<_>>(),
        ["shared note"]
    );
    assert!(matches!(
        store.offense_comments(&access_of(&[b]), id, true).await,
        Err(StoreError::NotFound)
    ));
    let wrong = OffenseComment {
        id: garrison_core::ids::CommentId::new(),
        offense_id: id,
        tenant_id: b,
        author_id: None,
        author: "x".into(),
        body: "x".into(),
        shared: true,
        created_at: t(4),
    };
    assert!(matches!(
        store
            .add_offense_comment(&scope(b), &wrong, &audit(Action::OffenseCommented))
            .await,
        Err(StoreError::NotFound)
    ));

    // A suppression swallows matching alerts until it expires, counting
    // them; other keys and other tenants are not affected.
    let sup = Suppression {
        id: garrison_core::SuppressionId::new(),
        tenant_id: a,
        detector_kind: DetectorKind::Sensor,
        detector_key: "suricata:7".into(),
        key: OffenseKey {
            field: "source.ip".into(),
            value: "203.0.113.9".into(),
        },
        reason: "the tenant's own scanner".into(),
        offense_id: Some(id),
        created_by: Some(analyst),
        created_at: t(5),
        expires_at: t(5 + hour),
        suppressed: 0,
        last_suppressed_at: None,
    };
    store
        .create_suppression(&scope(a), &sup, &audit(Action::SuppressionCreated))
        .await
        .expect("suppression");
    let rec = store
        .record_alerts(
            &[
                new_alert(a, 10, "7", "203.0.113.9", 3.0),
                new_alert(a, 11, "7", "203.0.113.9", 3.0),
                new_alert(a, 12, "7", "198.51.100.1", 3.0),
                new_alert(b, 13, "7", "203.0.113.9", 3.0),
            ],
            hour,
            t(10),
        )
        .await
        .expect("during");
    assert_eq!((rec.new, rec.suppressed, rec.opened.len()), (2, 2, 2));
    let listed = store
        .list_suppressions(&access_of(&[a]), None)
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].suppressed, 2);
    assert_eq!(listed[0].last_suppressed_at, Some(t(10)));
    assert!(
        store
            .list_suppressions(&access_of(&[b]), None)
            .await
            .expect("b")
            .is_empty()
    );
    // After it expires, the same alert raises an offense again.
    let rec = store
        .record_alerts(
            &[new_alert(a, 20 + hour, "7", "203.0.113.9", 3.0)],
            hour,
            t(5 + hour),
        )
        .await
        .expect("after");
    assert_eq!((rec.new, rec.suppressed), (1, 0));
    assert_eq!(rec.opened.len(), 1, "the closed offense stays closed");
}

pub async fn rule_files_and_tenant_settings(f: &Fixture) {
    use crate::{RuleFile, TenantRule};
    let store = &**f;
    let a = tenant(store, "acme").await;
    let b = tenant(store, "bravo").await;
    let v0 = store.rules_version().await.expect("version");
    let file = |origin: &str, body: &str| RuleFile {
        origin: origin.to_owned(),
        kind: "sigma".to_owned(),
        body: body.to_owned(),
        updated_at: t(1),
    };
    let c = store
        .put_rule_files(
            &[
                file("windows/a.yml", "title: a"),
                file("windows/b.yml", "title: b"),
            ],
            &audit(Action::RulesImported),
        )
        .await
        .expect("put");
    assert_eq!((c.new, c.updated, c.unchanged), (2, 0, 0));
    let v1 = store.rules_version().await.expect("version");
    assert!(v1 > v0);
    let c = store
        .put_rule_files(
            &[
                file("windows/a.yml", "title: a"),
                file("windows/b.yml", "title: b2"),
            ],
            &audit(Action::RulesImported),
        )
        .await
        .expect("again");
    assert_eq!((c.new, c.updated, c.unchanged), (0, 1, 1));
    let files = store.rule_files().await.expect("files");
    assert_eq!(
        files
            .iter()
            .map(|f| (f.origin.as_str(), f.body.as_str()))
            .collect::<Vec<_>>(),
        [
            ("windows/a.yml", "title: a"),
            ("windows/b.yml", "title: b2")
        ]
    );
    // Nothing changed: the version stays.
    let v2 = store.rules_version().await.expect("version");
    store
        .put_rule_files(
            &[file("windows/a.yml", "title: a")],
            &audit(Action::RulesImported),
        )
        .await
        .expect("same");
    assert_eq!(store.rules_version().await.expect("version"), v2);

    let mut exception = std::collections::BTreeMap::new();
    exception.insert("host.name".to_owned(), "build-01".to_owned());
    let setting = TenantRule {
        tenant_id: a,
        rule_id: "rule-1".to_owned(),
        enabled: false,
        exceptions: vec![exception],
        updated_at: t(2),
    };
    store
        .set_tenant_rule(&scope(a), &setting, &audit(Action::TenantRuleChanged))
        .await
        .expect("set");
    assert!(store.rules_version().await.expect("version") > v2);
    // Setting it again replaces it.
    let on = TenantRule {
        enabled: true,
        ..setting.clone()
    };
    store
        .set_tenant_rule(&scope(a), &on, &audit(Action::TenantRuleChanged))
        .await
        .expect("set again");
    assert_eq!(
        store.tenant_rules(&access_of(&[a]), None).await.expect("a"),
        vec![on]
    );
    assert!(
        store
            .tenant_rules(&access_of(&[b]), None)
            .await
            .expect("b")
            .is_empty()
    );
    assert!(
        store
            .tenant_rules(&access_of(&[b]), Some(a))
            .await
            .expect("b names a")
            .is_empty()
    );
    // A setting for another tenant through this scope is refused.
    let wrong = TenantRule {
        tenant_id: b,
        ..setting
    };
    assert!(matches!(
        store
            .set_tenant_rule(&scope(a), &wrong, &audit(Action::TenantRuleChanged))
            .await,
        Err(StoreError::NotFound)
    ));
    // Magnitude weights: per tenant, scoped, moving the rules version.
    let w = garrison_core::offense::Weights {
        severity: 1,
        credibility: 2,
        relevance: 7,
    };
    let before = store.rules_version().await.expect("version");
    store
        .set_magnitude_weights(&scope(a), w, t(3), &audit(Action::TenantUpdated))
        .await
        .expect("weights");
    assert!(store.rules_version().await.expect("version") > before);
    assert_eq!(
        store.magnitude_weights(&access_of(&[a])).await.expect("a"),
        vec![(a, w)]
    );
    assert!(
        store
            .magnitude_weights(&access_of(&[b]))
            .await
            .expect("b")
            .is_empty()
    );
}

fn iw(raw: &str, source: &str, confidence: u8) -> crate::IndicatorWrite {
    let (kind, value) = garrison_core::indicator::IndicatorKind::detect(raw).expect("valid");
    crate::IndicatorWrite {
        id: garrison_core::IndicatorId::new(),
        kind,
        value,
        confidence,
        valid_from: None,
        valid_until: None,
        source: source.to_owned(),
        tlp: garrison_core::indicator::Tlp::Amber,
        tags: vec!["c2".to_owned()],
    }
}

async fn indicator_values(
    store: &dyn Store,
    access: &garrison_core::TenantAccess,
    q: crate::IndicatorQuery,
) -> Vec<String> {
    let mut v: Vec<String> = store
        .list_indicators(access, &q)
        .await
        .expect("list")
        .items
        .into_iter()
        .map(|i| i.value)
        .collect();
    v.sort();
    v
}

pub async fn indicators_are_upserted_idempotently_and_paged(f: &Fixture) {
    use crate::{IndicatorCounts, IndicatorQuery, IndicatorTarget};
    use garrison_core::indicator::{IndicatorKind, IndicatorScope, Tlp};
    let store = &**f;
    let a = tenant(store, "acme").await;
    let mssp = IndicatorTarget::Mssp;
    let batch = vec![
        iw("192.0.2.1", "feed-a", 50),
        iw("Evil.Example", "feed-a", 60),
        iw("http://evil.example/x", "feed-a", 70),
    ];
    let counts = store
        .upsert_indicators(&mssp, &batch, t(10))
        .await
        .expect("upsert");
    assert_eq!(
        counts,
        IndicatorCounts {
            new: 3,
            updated: 0,
            unchanged: 0
        }
    );
    let all = store
        .list_indicators(&op().access(), &IndicatorQuery::default())
        .await
        .expect("list");
    assert_eq!(all.total, 3);
    let d = all
        .items
        .iter()
        .find(|i| i.kind == IndicatorKind::Domain)
        .expect("domain");
    assert_eq!(d.value, "evil.example");
    assert_eq!(d.scope, IndicatorScope::Mssp);
    assert_eq!((d.confidence, d.tlp), (60, Tlp::Amber));
    assert_eq!(d.tags, ["c2"]);
    assert_eq!((d.valid_from, d.valid_until), (t(10), None));
    assert_eq!(
        (d.created_at, d.updated_at, d.revoked),
        (t(10), t(10), false)
    );
    assert_eq!(
        d.id, batch[1].id,
        "a new indicator keeps the id it was given"
    );

    // The same feed again (new ids offered, no dates): nothing changes.
    let again: Vec<_> = batch
        .iter()
        .map(|w| crate::IndicatorWrite {
            id: garrison_core::IndicatorId::new(),
            ..w.clone()
        })
        .collect();
    let counts = store
        .upsert_indicators(&mssp, &again, t(20))
        .await
        .expect("again");
    assert_eq!(
        counts,
        IndicatorCounts {
            new: 0,
            updated: 0,
            unchanged: 3
        }
    );
    // Changed confidence and tags, validity extended; a second source is a
    // second indicator; two writes of one key in a batch: the last wins.
    let mut changed = again[1].clone();
    changed.confidence = 90;
    changed.tags = vec!["c2".into(), "apt".into()];
    changed.valid_until = Some(t(1_000));
    let mut first = changed.clone();
    first.confidence = 10;
    let other_source = iw("evil.example", "feed-b", 40);
    let counts = store
        .upsert_indicators(&mssp, &[first, changed, other_source], t(30))
        .await
        .expect("update");
    assert_eq!(
        counts,
        IndicatorCounts {
            new: 1,
            updated: 1,
            unchanged: 1
        }
    );
    let found = store
        .find_indicator(&op().access(), d.id)
        .await
        .expect("find");
    assert_eq!(found.confidence, 90);
    assert_eq!(found.tags, ["c2", "apt"]);
    assert_eq!(found.valid_until, Some(t(1_000)));
    assert_eq!((found.valid_from, found.created_at), (t(10), t(10)));
    assert_eq!(found.updated_at, t(30));
    let q = IndicatorQuery {
        value: Some("evil.example".into()),
        ..IndicatorQuery::default()
    };
    assert_eq!(
        store
            .count_indicators(&op().access(), &q)
            .await
            .expect("count"),
        2
    );

    // The same value for a tenant is a separate indicator.
    let counts = store
        .upsert_indicators(
            &IndicatorTarget::Tenant(scope(a)),
            &[iw("evil.example", "feed-a", 60)],
            t(40),
        )
        .await
        .expect("tenant");
    assert_eq!(counts.new, 1);
    let ghost = op().scope(TenantId::new()).expect("operator scope");
    assert!(matches!(
        store
            .upsert_indicators(
                &IndicatorTarget::Tenant(ghost),
                &[iw("evil.example", "x", 1)],
                t(40)
            )
            .await,
        Err(StoreError::NotFound)
    ));

    // Filters and paging by id.
    let by_kind = IndicatorQuery {
        kind: Some(IndicatorKind::Url),
        ..IndicatorQuery::default()
    };
    assert_eq!(
        indicator_values(store, &op().access(), by_kind).await,
        ["http://evil.example/x"]
    );
    let by_text = IndicatorQuery {
        text: Some("EVIL.EX".into()),
        source: Some("feed-a".into()),
        ..IndicatorQuery::default()
    };
    assert_eq!(
        store
            .count_indicators(&op().access(), &by_text)
            .await
            .expect("count"),
        3
    );
    let wild = IndicatorQuery {
        text: Some("%".into()),
        ..IndicatorQuery::default()
    };
    assert_eq!(
        store
            .count_indicators(&op().access(), &wild)
            .await
            .expect("count"),
        0
    );
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_indicators(
                &op().access(),
                &IndicatorQuery {
                    after,
                    limit: 2,
                    ..IndicatorQuery::default()
                },
            )
            .await
            .expect("page");
        assert_eq!(page.total, 5);
        let Some(last) = page.items.last() else { break };
        after = Some(last.id);
        seen.extend(page.items.iter().map(|i| i.id));
    }
    assert_eq!(seen.len(), 5);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "pages run in id order");
}

pub async fn indicators_and_sightings_are_isolated_by_tenant(f: &Fixture) {
    use crate::{IndicatorQuery, IndicatorTarget};
    use garrison_core::indicator::Sighting;
    let store = &**f;
    let a = tenant(store, "acme").await;
    let b = tenant(store, "bravo").await;
    for (target, raw) in [
        (IndicatorTarget::Tenant(scope(a)), "a.example"),
        (IndicatorTarget::Tenant(scope(b)), "b.example"),
        (IndicatorTarget::Mssp, "shared.example"),
    ] {
        store
            .upsert_indicators(&target, &[iw(raw, "feed", 50)], t(1))
            .await
            .expect("upsert");
    }
    let id_of = |v: &'static str| async move {
        store
            .list_indicators(
                &op().access(),
                &IndicatorQuery {
                    value: Some(v.into()),
                    ..IndicatorQuery::default()
                },
            )
            .await
            .expect("list")
            .items[0]
            .id
    };
    let (ia, ib, shared) = (
        id_of("a.example").await,
        id_of("b.example").await,
        id_of("shared.example").await,
    );
    let only_a = access_of(&[a]);
    let q = IndicatorQuery::default();
    assert_eq!(
        indicator_values(store, &only_a, q.clone()).await,
        ["a.example", "shared.example"]
    );
    assert_eq!(
        indicator_values(store, &access_of(&[]), q.clone()).await,
        ["shared.example"],
        "no tenant: the MSSP-wide ones only"
    );
    assert_eq!(
        indicator_values(store, &op().access(), q.clone()).await,
        ["a.example", "b.example", "shared.example"]
    );
    let naming_b = IndicatorQuery {
        tenant: Some(b),
        ..IndicatorQuery::default()
    };
    assert!(
        indicator_values(store, &only_a, naming_b.clone())
            .await
            .is_empty()
    );
    assert_eq!(
        store
            .count_indicators(&only_a, &naming_b)
            .await
            .expect("count"),
        0
    );
    assert_eq!(
        indicator_values(
            store,
            &op().access(),
            IndicatorQuery {
                tenant: Some(b),
                mssp_wide: Some(false),
                ..IndicatorQuery::default()
            }
        )
        .await,
        ["b.example"]
    );
    assert_eq!(
        indicator_values(
            store,
            &only_a,
            IndicatorQuery {
                mssp_wide: Some(true),
                ..IndicatorQuery::default()
            }
        )
        .await,
        ["shared.example"]
    );
    assert!(matches!(
        store.find_indicator(&only_a, ib).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store
            .find_indicator(&only_a, shared)
            .await
            .expect("shared")
            .id,
        shared
    );
    assert!(matches!(
        store
            .revoke_indicator(&only_a, ib, t(5), &audit(Action::IndicatorsRevoked))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(
        !store
            .find_indicator(&op().access(), ib)
            .await
            .expect("b's")
            .revoked,
        "a refused revocation changes nothing"
    );

    // Sightings: the shared indicator seen at both tenants; each sees its
    // own sightings only.
    let (ea, eb) = (garrison_core::EventId::new(), garrison_core::EventId::new());
    let sightings = [
        Sighting {
            indicator_id: shared,
            tenant_id: a,
            event_id: ea,
            seen_at: t(100),
        },
        Sighting {
            indicator_id: shared,
            tenant_id: b,
            event_id: eb,
            seen_at: t(200),
        },
        Sighting {
            indicator_id: ia,
            tenant_id: a,
            event_id: ea,
            seen_at: t(100),
        },
    ];
    assert_eq!(store.record_sightings(&sightings).await.expect("record"), 3);
    assert_eq!(
        store.record_sightings(&sightings).await.expect("again"),
        0,
        "recording a sighting twice is a no-op"
    );
    let seen = store
        .list_sightings(&only_a, shared, 10)
        .await
        .expect("sightings");
    assert_eq!(seen, [sightings[0]]);
    let all = store
        .list_sightings(&op().access(), shared, 10)
        .await
        .expect("sightings");
    assert_eq!(all, [sightings[1], sightings[0]], "newest first");
    assert!(matches!(
        store.list_sightings(&only_a, ib, 10).await,
        Err(StoreError::NotFound)
    ));
    let counts = store
        .sighting_counts(&only_a, &[shared, ia, ib])
        .await
        .expect("counts");
    let mut got: Vec<_> = counts.iter().map(|c| (c.indicator_id, c.count)).collect();
    got.sort();
    let mut want = vec![(shared, 1), (ia, 1)];
    want.sort();
    assert_eq!(got, want);
    let counts = store
        .sighting_counts(&op().access(), &[shared])
        .await
        .expect("counts");
    assert_eq!(counts.len(), 1);
    assert_eq!(
        (counts[0].count, counts[0].first_seen, counts[0].last_seen),
        (2, t(100), t(200))
    );
    assert!(
        store
            .sighting_counts(&access_of(&[]), &[shared])
            .await
            .expect("counts")
            .is_empty()
    );
}

pub async fn live_indicators_follow_validity_and_revocation(f: &Fixture) {
    use crate::{IndicatorQuery, IndicatorTarget};
    let store = &**f;
    let a = tenant(store, "acme").await;
    let mut expired = iw("192.0.2.1", "feed", 50);
    expired.valid_from = Some(t(0));
    expired.valid_until = Some(t(50));
    let mut future = iw("192.0.2.2", "feed", 50);
    future.valid_from = Some(t(500));
    let mut bounded = iw("192.0.2.3", "feed", 50);
    bounded.valid_from = Some(t(0));
    bounded.valid_until = Some(t(100));
    let open = iw("192.0.2.4", "feed", 50);
    let revoked = iw("192.0.2.5", "feed", 50);
    store
        .upsert_indicators(
            &IndicatorTarget::Mssp,
            &[expired, future, bounded, open, revoked.clone()],
            t(1),
        )
        .await
        .expect("upsert");
    store
        .upsert_indicators(
            &IndicatorTarget::Tenant(scope(a)),
            &[iw("192.0.2.6", "feed", 50)],
            t(1),
        )
        .await
        .expect("upsert");
    let entry = audit(Action::IndicatorsRevoked).target(format!("indicator:{}", revoked.id));
    store
        .revoke_indicator(&op().access(), revoked.id, t(2), &entry)
        .await
        .expect("revoke");
    store
        .revoke_indicator(&op().access(), revoked.id, t(3), &entry)
        .await
        .expect("revoking twice is fine");
    // A re-import does not bring a revoked indicator back.
    let mut again = iw("192.0.2.5", "feed", 80);
    again.id = garrison_core::IndicatorId::new();
    store
        .upsert_indicators(&IndicatorTarget::Mssp, &[again], t(4))
        .await
        .expect("re-import");

    let live = |after| async move { store.live_indicators(t(100), after, 2).await.expect("live") };
    let mut values = Vec::new();
    let mut after = None;
    loop {
        let page = live(after).await;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        values.extend(page.into_iter().map(|i| i.value));
    }
    values.sort();
    assert_eq!(values, ["192.0.2.3", "192.0.2.4", "192.0.2.6"]);
    let listed = store
        .list_indicators(&op().access(), &IndicatorQuery::default())
        .await
        .expect("list");
    assert_eq!(listed.total, 5, "revoked ones are hidden by default");
    let with_revoked = IndicatorQuery {
        include_revoked: true,
        ..IndicatorQuery::default()
    };
    let found = store
        .list_indicators(&op().access(), &with_revoked)
        .await
        .expect("list")
        .items
        .into_iter()
        .find(|i| i.id == revoked.id)
        .expect("revoked is listed when asked");
    assert!(found.revoked);
    let log = store
        .list_audit(&op().access(), &AuditQuery::default())
        .await
        .expect("audit");
    assert!(
        log.iter()
            .any(|r| r.action == "indicators.revoked" && r.target.contains(&revoked.id.to_string()))
    );
}

fn new_ticket(
    tenant: TenantId,
    offense: Option<garrison_core::OffenseId>,
    priority: garrison_core::ticket::Priority,
    at_ms: i64,
) -> garrison_core::ticket::Ticket {
    use garrison_core::ticket::{Milestones, OwnerPlan, Status, Ticket, TicketType};
    Ticket {
        id: garrison_core::TicketId::new(),
        tenant_id: tenant,
        ticket_type: TicketType::SecurityIncident,
        title: format!("incident at {at_ms}"),
        description: "escalated".to_owned(),
        priority,
        priority_reason: None,
        status: Status::New,
        plan: OwnerPlan::seeded(TicketType::SecurityIncident),
        offense_id: offense,
        milestones: Milestones {
            detected: Some(t(at_ms - 10)),
            ..Milestones::default()
        },
        created_by: None,
        created_at: t(at_ms),
        updated_at: t(at_ms),
    }
}

/// Tickets: opened once per offense, listed P1 first, moved by
/// compare-and-set with a recorded change, and invisible to other tenants
/// on every read.
pub async fn tickets_are_opened_moved_and_isolated(f: &Fixture) {
    use garrison_core::ticket::{Priority, Status, TicketChange};
    let store = &**f;
    let a = tenant(store, "acme").await;
    let b = tenant(store, "globex").await;
    let rec = store
        .record_alerts(
            &[new_alert(a, 1_000, "exploit", "203.0.113.7", 8.0)],
            3_600_000,
            t(2_000),
        )
        .await
        .expect("alerts");
    let offense = rec.opened[0];
    let opened = audit(Action::TicketOpened);
    let p3 = new_ticket(a, None, Priority::P3, 100);
    let p1 = new_ticket(a, Some(offense), Priority::P1, 200);
    store
        .create_ticket(&scope(a), &p3, &opened)
        .await
        .expect("p3");
    store
        .create_ticket(&scope(a), &p1, &opened)
        .await
        .expect("p1");
    // One ticket per offense; another tenant's offense is not found.
    assert!(matches!(
        store
            .create_ticket(
                &scope(a),
                &new_ticket(a, Some(offense), Priority::P2, 300),
                &opened
            )
            .await,
        Err(StoreError::Conflict("offense"))
    ));
    assert!(matches!(
        store
            .create_ticket(
                &scope(b),
                &new_ticket(b, Some(offense), Priority::P2, 300),
                &opened
            )
            .await,
        Err(StoreError::NotFound)
    ));
    // A ticket for tenant A written through B's scope is refused.
    assert!(matches!(
        store
            .create_ticket(&scope(b), &new_ticket(a, None, Priority::P2, 300), &opened)
            .await,
        Err(StoreError::NotFound)
    ));
    let only_a = access_of(&[a]);
    let only_b = access_of(&[b]);
    assert_eq!(store.find_ticket(&only_a, p1.id).await.expect("find"), p1);
    let page = store
        .list_tickets(&only_a, &TicketQuery::default())
        .await
        .expect("list");
    assert_eq!(page.total, 2);
    assert_eq!(
        page.items.iter().map(|t| t.id).collect::<Vec<_>>(),
        [p1.id, p3.id],
        "P1 first"
    );
    assert_eq!(
        store
            .ticket_for_offense(&only_a, offense)
            .await
            .expect("by offense")
            .map(|t| t.id),
        Some(p1.id)
    );
    // Tenant B sees none of it.
    assert!(matches!(
        store.find_ticket(&only_b, p1.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.ticket_changes(&only_b, p1.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.ticket_for_offense(&only_b, offense).await,
        Ok(None)
    ));
    let page_b = store
        .list_tickets(&only_b, &TicketQuery::default())
        .await
        .expect("list b");
    assert_eq!((page_b.total, page_b.items.len()), (0, 0));
    assert_eq!(
        store
            .list_tickets(
                &only_b,
                &TicketQuery {
                    tenant: Some(a),
                    ..TicketQuery::default()
                }
            )
            .await
            .expect("asking for a")
            .total,
        0
    );

    // A status change: compare-and-set on the status, recorded.
    let mut m = p1.milestones;
    m.note(Status::Acknowledged, t(300));
    let ack = TicketChange {
        id: garrison_core::TicketChangeId::new(),
        ticket_id: p1.id,
        tenant_id: a,
        from: Status::New,
        to: Status::Acknowledged,
        actor_id: None,
        actor: "analyst@mssp.test".to_owned(),
        reason: String::new(),
        at: t(300),
    };
    let moved = audit(Action::TicketStatusChanged);
    let now = store
        .change_ticket_status(&scope(a), &ack, &m, &moved)
        .await
        .expect("acknowledge");
    assert_eq!(now.status, Status::Acknowledged);
    assert_eq!(now.milestones.acknowledged, Some(t(300)));
    assert_eq!(now.updated_at, t(300));
    // The same change again: the ticket is no longer new.
    let again = TicketChange {
        id: garrison_core::TicketChangeId::new(),
        ..ack.clone()
    };
    assert!(matches!(
        store
            .change_ticket_status(&scope(a), &again, &m, &moved)
            .await,
        Err(StoreError::Conflict("status"))
    ));
    // Through another tenant's scope: not found, nothing written.
    let foreign = TicketChange {
        id: garrison_core::TicketChangeId::new(),
        tenant_id: b,
        from: Status::Acknowledged,
        to: Status::InProgress,
        ..ack.clone()
    };
    assert!(matches!(
        store
            .change_ticket_status(&scope(b), &foreign, &m, &moved)
            .await,
        Err(StoreError::NotFound)
    ));
    let changes = store.ticket_changes(&only_a, p1.id).await.expect("changes");
    assert_eq!(changes, [ack]);
    // Comments: shared ones for everyone, internal ones for the MSSP; a
    // first response recorded with the comment; not through B.
    let comment = |body: &str, shared: bool, at: i64| garrison_core::ticket::TicketComment {
        id: garrison_core::TicketCommentId::new(),
        ticket_id: p1.id,
        tenant_id: a,
        author_id: None,
        author: "analyst@mssp.test".to_owned(),
        body: body.to_owned(),
        shared,
        created_at: t(at),
    };
    let commented = audit(Action::TicketCommented);
    let internal = comment("internal note", false, 400);
    store
        .add_ticket_comment(&scope(a), &internal, None, &commented)
        .await
        .expect("internal");
    let mut answered = m;
    answered.note_shared_comment(t(500));
    let shared = comment("We are on it.", true, 500);
    store
        .add_ticket_comment(&scope(a), &shared, Some(&answered), &commented)
        .await
        .expect("shared");
    assert_eq!(
        store
            .ticket_comments(&only_a, p1.id, true)
            .await
            .expect("all"),
        [internal.clone(), shared.clone()]
    );
    assert_eq!(
        store
            .ticket_comments(&only_a, p1.id, false)
            .await
            .expect("shared"),
        std::slice::from_ref(&shared)
    );
    assert_eq!(
        store
            .find_ticket(&only_a, p1.id)
            .await
            .expect("ticket")
            .milestones
            .first_response,
        Some(t(500))
    );
    assert!(matches!(
        store.ticket_comments(&only_b, p1.id, true).await,
        Err(StoreError::NotFound)
    ));
    let foreign_comment = garrison_core::ticket::TicketComment {
        id: garrison_core::TicketCommentId::new(),
        tenant_id: b,
        ..shared.clone()
    };
    assert!(matches!(
        store
            .add_ticket_comment(&scope(b), &foreign_comment, None, &commented)
            .await,
        Err(StoreError::NotFound)
    ));

    // Owner plans per tenant: set, listed, replaced; invisible to B.
    use garrison_core::ticket::{OwnerPlan, TicketType};
    assert_eq!(store.ticket_plans(&only_a, a).await.expect("none yet"), []);
    let mut plan = OwnerPlan::seeded(TicketType::SecurityIncident);
    plan.approve_closure = Role::CustomerResponder;
    let planned = audit(Action::TicketPlanChanged);
    store
        .set_ticket_plan(
            &scope(a),
            TicketType::SecurityIncident,
            &plan,
            t(600),
            &planned,
        )
        .await
        .expect("plan");
    plan.informed = vec![Role::MsspAdmin];
    store
        .set_ticket_plan(
            &scope(a),
            TicketType::SecurityIncident,
            &plan,
            t(700),
            &planned,
        )
        .await
        .expect("plan again");
    assert_eq!(
        store.ticket_plans(&only_a, a).await.expect("plans"),
        [(TicketType::SecurityIncident, plan.clone())]
    );
    assert!(matches!(
        store.ticket_plans(&only_b, a).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.ticket_plans(&only_b, b).await.expect("b's"), []);

    // Closed tickets leave the open list.
    let page = store
        .list_tickets(
            &only_a,
            &TicketQuery {
                open_only: false,
                ..TicketQuery::default()
            },
        )
        .await
        .expect("all");
    assert_eq!(page.total, 2);
}
