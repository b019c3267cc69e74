//! Authentication: password login, the MFA stages, sessions, password
//! changes and API tokens.
//!
//! A portal login walks through stages, each ending in a fresh session id
//! (rotation) so that a session token seen before a privilege change is
//! worthless after it:
//! password → MFA code (if enrolled) → new password (if a one-time password
//! was used) → MFA enrolment (if required and not yet done) → full session.

use std::net::IpAddr;

use garrison_core::audit::{Action, AuditEntry};
use garrison_core::model::{ApiToken, Session, SessionStage, User, UserCredentials};
use garrison_core::tenancy::AuthMethod;
use garrison_core::{Principal, Secret, SessionId, TenantId, Timestamp, TokenId, validate};
use garrison_store::SessionChange;
use totp_rs::{Builder, Totp};

use crate::crypto::{lookup_hash, random_bytes, random_code, random_token};
use crate::{App, AppError, AppResult, password};

/// The token prefix; makes leaked tokens easy to recognise in code and logs
/// (secret scanners match on it).
pub const TOKEN_PREFIX: &str = "grn_";

/// What the server knows about the client making a request.
#[derive(Debug, Clone)]
pub struct Client {
    pub ip: IpAddr,
    pub user_agent: Option<String>,
    /// The device cookie, if the browser sent one.
    pub device_cookie: Option<String>,
}

/// A session just issued. `token` goes into the session cookie and is never
/// stored; `device_cookie` is set when the session is complete.
#[derive(Debug)]
pub struct IssuedSession {
    pub token: Secret<String>,
    pub session: Session,
    pub device_cookie: Option<String>,
}

/// A session presented by a browser, with its user.
#[derive(Debug, Clone)]
pub struct SessionContext {
    pub session: Session,
    pub user: User,
    /// Present only when the session is at the `Full` stage.
    pub principal: Option<Principal>,
}

/// An MFA secret offered for enrolment.
#[derive(Debug)]
pub struct Enrolment {
    pub secret_base32: Secret<String>,
    pub otpauth_url: Secret<String>,
}

/// A new API token; `secret` is shown once.
#[derive(Debug)]
pub struct IssuedToken {
    pub token: ApiToken,
    pub secret: Secret<String>,
}

fn principal_of(user: &User, assigned: Vec<TenantId>, method: AuthMethod) -> AppResult<Principal> {
    Principal::authenticated(
        user.id,
        user.email.clone(),
        user.role,
        user.tenant_id,
        assigned,
        method,
    )
    .map_err(|e| AppError::Internal(format!("user {} is inconsistent: {e}", user.id)))
}

fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase()
}

impl App {
    fn totp(&self, secret: &[u8], account: &str) -> AppResult<Totp> {
        Builder::new()
            .with_secret(secret.to_vec())
            .with_account_name(account.replace(':', "_"))
            .with_issuer(Some(self.settings.issuer.replace(':', "_")))
            .build()
            .map_err(|e| AppError::Internal(format!("TOTP setup failed: {e}")))
    }

    fn recovery_hash(&self, code: &str) -> String {
        self.keys.code_hash(&normalise_code(code))
    }

    /// Whether this user must use MFA: always for staff and customer
    /// admins, and for everyone in a tenant whose policy says so.
    async fn mfa_required(&self, user: &User) -> AppResult<bool> {
        if user.role.always_requires_mfa() {
            return Ok(true);
        }
        let Some(tenant) = user.tenant_id else {
            return Ok(true);
        };
        let own = principal_of(user, Vec::new(), AuthMethod::System)?;
        let scope = own.scope(tenant).ok_or(AppError::NotFound)?;
        Ok(self.store.find_tenant(&scope).await?.mfa_required_for_all)
    }

    /// The stage a session moves to once the steps up to now are done.
    async fn next_stage(&self, user: &User, mfa_done: bool) -> AppResult<SessionStage> {
        Ok(if user.has_mfa() && !mfa_done {
            SessionStage::MfaPending
        } else if user.must_change_password {
            SessionStage::PasswordChange
        } else if !user.has_mfa() && self.mfa_required(user).await? {
            SessionStage::MfaEnrolment
        } else {
            SessionStage::Full
        })
    }

    fn new_session(
        &self,
        user: &User,
        stage: SessionStage,
        client: &Client,
    ) -> AppResult<(Secret<String>, Session)> {
        let now = self.clock.now();
        let token = random_token()?;
        let lifetime = if stage == SessionStage::Full {
            self.settings.session_absolute
        } else {
            self.settings.login_step_ttl
        };
        let session = Session {
            id: SessionId::new(),
            user_id: user.id,
            token_hash: lookup_hash(&token),
            stage,
            csrf_token: random_token()?,
            created_at: now,
            last_seen_at: now,
            expires_at: now.plus(lifetime),
            source_ip: Some(client.ip.to_string()),
            user_agent: client
                .user_agent
                .as_ref()
                .map(|ua| ua.chars().take(256).collect()),
            active_tenant: None,
            pending_totp_sealed: None,
        };
        Ok((Secret::new(token), session))
    }

    /// Moves a login to its next stage under a new session id; records the
    /// login when the session becomes complete.
    async fn advance(
        &self,
        user: &User,
        previous: Option<SessionId>,
        mfa_done: bool,
        client: &Client,
    ) -> AppResult<IssuedSession> {
        let stage = self.next_stage(user, mfa_done).await?;
        let (token, session) = self.new_session(user, stage, client)?;
        match previous {
            Some(old) => self.store.rotate_session(old, &session).await?,
            None => self.store.create_session(&session).await?,
        }
        let mut device_cookie = None;
        if stage == SessionStage::Full {
            let now = self.clock.now();
            let entry = AuditEntry::new(now, Action::LoginSucceeded, &user.email)
                .actor(Some(user.id))
                .tenant(user.tenant_id)
                .target(format!("user:{}", user.id))
                .source(Some(client.ip.to_string()))
                .details(&serde_json::json!({ "mfa": user.has_mfa() }));
            self.store.record_login(user.id, now, &entry).await?;
            let until = now.plus(self.settings.device_cookie_ttl).as_secs();
            device_cookie = Some(self.keys.sign_device(&user.email, until));
            tracing::info!(user.id = %user.id, "login complete");
        }
        Ok(IssuedSession {
            token,
            session,
            device_cookie,
        })
    }

    /// Checks an e-mail address and password. On success returns a session
    /// at the next stage of login.
    ///
    /// # Errors
    /// `Throttled` when this client or account has failed too often,
    /// `Unauthenticated` for any wrong or unknown credential.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client: &Client,
    ) -> AppResult<IssuedSession> {
        let now = self.clock.now();
        let account = validate::email(email).unwrap_or_else(|_| email.trim().to_lowercase());
        let account: String = account.chars().take(254).collect();
        let trusted = client
            .device_cookie
            .as_deref()
            .and_then(|c| self.keys.verify_device(c, now.as_secs()))
            .is_some_and(|e| e == account);
        if let Err(retry_after) = self.throttle.check_login(now, client.ip, &account, trusted) {
            return Err(AppError::Throttled { retry_after });
        }
        // Over-long input is refused without hashing it.
        let password = if password.len() > 4 * garrison_core::password::MAX_LEN {
            ""
        } else {
            password
        };

        let creds = self.store.find_credentials_by_email(&account).await?;
        let ok = password::verify(password, creds.as_ref().map(|c| &c.password_hash)).await;
        let reason = match &creds {
            None => Some("unknown account"),
            Some(_) if !ok => Some("wrong password"),
            Some(c) if c.user.is_disabled => Some("account disabled"),
            Some(_) => None,
        };
        if let Some(reason) = reason {
            self.throttle.login_failed(now, client.ip, &account);
            let user = creds.as_ref().map(|c| &c.user);
            let entry = AuditEntry::new(now, Action::LoginFailed, &account)
                .actor(user.map(|u| u.id))
                .tenant(user.and_then(|u| u.tenant_id))
                .target(account.clone())
                .source(Some(client.ip.to_string()))
                .details(&serde_json::json!({ "reason": reason }))
                .failed();
            self.store.append_audit(&entry).await?;
            tracing::info!(reason, "login failed");
            return Err(AppError::Unauthenticated);
        }
        let Some(UserCredentials { user, .. }) = creds else {
            return Err(AppError::Unauthenticated);
        };
        self.throttle.login_succeeded(client.ip, &account);
        self.advance(&user, None, false, client).await
    }

    /// Resolves a session cookie. Expired and idle sessions are deleted.
    ///
    /// # Errors
    /// `Unauthenticated` when the session is unknown, expired or its user
    /// disabled.
    pub async fn session(&self, token: &str) -> AppResult<SessionContext> {
        self.resolve_session(token, true).await
    }

    /// Like [`App::session`], but does not count as activity: a live
    /// stream checking that its session still holds must not keep an
    /// unattended session from idling out.
    ///
    /// # Errors
    /// As for [`App::session`].
    pub async fn session_still_valid(&self, token: &str) -> AppResult<SessionContext> {
        self.resolve_session(token, false).await
    }

    async fn resolve_session(&self, token: &str, activity: bool) -> AppResult<SessionContext> {
        let now = self.clock.now();
        let Some(session) = self.store.find_session(&lookup_hash(token)).await? else {
            return Err(AppError::Unauthenticated);
        };
        let idle = now.since(session.last_seen_at) > self.settings.session_idle;
        if now >= session.expires_at || idle {
            self.store.delete_session(session.id).await?;
            return Err(AppError::Unauthenticated);
        }
        let creds = self.store.find_credentials(session.user_id).await?;
        if creds.user.is_disabled {
            self.store.delete_session(session.id).await?;
            return Err(AppError::Unauthenticated);
        }
        // Writing on every request would make reads into writes; a minute
        // of precision is plenty for an idle timeout.
        if activity && now.since(session.last_seen_at).as_secs() >= 60 {
            self.store.touch_session(session.id, now).await?;
        }
        let mut session = session;
        // MFA that became required (a promotion to admin, a tenant policy)
        // while this session was open is due before anything else.
        if session.stage == SessionStage::Full
            && !creds.user.has_mfa()
            && self.mfa_required(&creds.user).await?
        {
            let change = SessionChange {
                stage: Some(SessionStage::MfaEnrolment),
                ..SessionChange::default()
            };
            self.store.update_session(session.id, &change).await?;
            session.stage = SessionStage::MfaEnrolment;
        }
        let principal = if session.stage == SessionStage::Full {
            let assigned = self.store.list_assignments(creds.user.id).await?;
            let p = principal_of(&creds.user, assigned, AuthMethod::Session(session.id))?
                .with_source(session.source_ip.clone());
            // A tenant switched to earlier may no longer be visible.
            if session.active_tenant.is_some_and(|t| !p.access().allows(t)) {
                let change = SessionChange {
                    active_tenant: Some(None),
                    ..SessionChange::default()
                };
                self.store.update_session(session.id, &change).await?;
                session.active_tenant = None;
            }
            Some(p)
        } else {
            None
        };
        Ok(SessionContext {
            session,
            user: creds.user,
            principal,
        })
    }

    fn expect_stage(ctx: &SessionContext, stage: SessionStage) -> AppResult<()> {
        if ctx.session.stage == stage {
            Ok(())
        } else {
            Err(AppError::Forbidden("this step of login is not due"))
        }
    }

    /// Checks a TOTP or recovery code for a session waiting for one.
    ///
    /// # Errors
    /// `Throttled` after too many wrong codes, `Invalid` for a wrong code.
    pub async fn verify_mfa(
        &self,
        ctx: &SessionContext,
        code: &str,
        client: &Client,
    ) -> AppResult<IssuedSession> {
        Self::expect_stage(ctx, SessionStage::MfaPending)?;
        let now = self.clock.now();
        let user = &ctx.user;
        if let Err(retry_after) = self.throttle.check_mfa(now, user.id) {
            return Err(AppError::Throttled { retry_after });
        }
        let creds = self.store.find_credentials(user.id).await?;
        let code = normalise_code(code);
        let accepted = if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
            self.check_totp(&creds, &code, now).await?
        } else {
            let entry = AuditEntry::new(now, Action::RecoveryCodeUsed, &user.email)
                .actor(Some(user.id))
                .tenant(user.tenant_id)
                .target(format!("user:{}", user.id))
                .source(Some(client.ip.to_string()));
            self.store
                .use_recovery_code(user.id, &self.recovery_hash(&code), now, &entry)
                .await?
        };
        if !accepted {
            self.throttle.mfa_failed(now, user.id);
            let entry = AuditEntry::new(now, Action::MfaChallengeFailed, &user.email)
                .actor(Some(user.id))
                .tenant(user.tenant_id)
                .target(format!("user:{}", user.id))
                .source(Some(client.ip.to_string()))
                .failed();
            self.store.append_audit(&entry).await?;
            return Err(AppError::invalid(
                "code",
                "the code is not valid; codes can be used only once",
            ));
        }
        self.throttle.mfa_succeeded(user.id);
        self.advance(user, Some(ctx.session.id), true, client).await
    }

    async fn check_totp(
        &self,
        creds: &UserCredentials,
        code: &str,
        now: Timestamp,
    ) -> AppResult<bool> {
        let Some(sealed) = &creds.totp_secret_sealed else {
            return Ok(false);
        };
        let secret = self.keys.open(sealed.expose())?;
        let totp = self.totp(secret.expose(), &creds.user.email)?;
        let Some(step) = totp.check(code, u64::try_from(now.as_secs()).unwrap_or(0)) else {
            return Ok(false);
        };
        // The same code is never accepted twice.
        Ok(self
            .store
            .use_totp_step(creds.user.id, i64::try_from(step).unwrap_or(i64::MAX))
            .await?)
    }

    /// Offers a new TOTP secret to a user enrolling. The same secret is
    /// offered again until enrolment is confirmed, so reloading the page does
    /// not invalidate a QR code already scanned.
    ///
    /// # Errors
    /// When the session is not allowed to enrol.
    pub async fn begin_mfa_enrolment(&self, ctx: &SessionContext) -> AppResult<Enrolment> {
        self.may_enrol(ctx)?;
        let secret = match &ctx.session.pending_totp_sealed {
            Some(sealed) => self.keys.open(sealed)?,
            None => {
                let secret = random_bytes::<20>()?.to_vec();
                let change = SessionChange {
                    pending_totp_sealed: Some(Some(self.keys.seal(&secret)?)),
                    ..SessionChange::default()
                };
                self.store.update_session(ctx.session.id, &change).await?;
                Secret::new(secret)
            }
        };
        let totp = self.totp(secret.expose(), &ctx.user.email)?;
        Ok(Enrolment {
            secret_base32: Secret::new(totp.secret().to_base32()),
            otpauth_url: Secret::new(
                totp.to_url()
                    .map_err(|e| AppError::Internal(format!("otpauth URL: {e}")))?,
            ),
        })
    }

    fn may_enrol(&self, ctx: &SessionContext) -> AppResult<()> {
        match ctx.session.stage {
            SessionStage::MfaEnrolment => Ok(()),
            SessionStage::Full if !ctx.user.has_mfa() => Ok(()),
            _ => Err(AppError::Forbidden(
                "MFA is already set up; an administrator can reset it",
            )),
        }
    }

    /// Confirms enrolment with a first code; returns the next session and
    /// ten one-time recovery codes, shown once.
    ///
    /// # Errors
    /// `Invalid` when the code does not match the offered secret.
    pub async fn confirm_mfa_enrolment(
        &self,
        ctx: &SessionContext,
        code: &str,
        client: &Client,
    ) -> AppResult<(IssuedSession, Vec<Secret<String>>)> {
        self.may_enrol(ctx)?;
        let now = self.clock.now();
        if let Err(retry_after) = self.throttle.check_mfa(now, ctx.user.id) {
            return Err(AppError::Throttled { retry_after });
        }
        let Some(sealed) = &ctx.session.pending_totp_sealed else {
            return Err(AppError::invalid(
                "code",
                "start the enrolment again: no secret was offered",
            ));
        };
        let secret = self.keys.open(sealed)?;
        let totp = self.totp(secret.expose(), &ctx.user.email)?;
        let Some(step) = totp.check(
            &normalise_code(code),
            u64::try_from(now.as_secs()).unwrap_or(0),
        ) else {
            self.throttle.mfa_failed(now, ctx.user.id);
            return Err(AppError::invalid(
                "code",
                "the code does not match; check the time on your device and enter the current code",
            ));
        };
        let codes = self.new_recovery_codes()?;
        let hashes: Vec<String> = codes
            .iter()
            .map(|c| self.recovery_hash(c.expose()))
            .collect();
        let entry = AuditEntry::new(now, Action::MfaEnrolled, &ctx.user.email)
            .actor(Some(ctx.user.id))
            .tenant(ctx.user.tenant_id)
            .target(format!("user:{}", ctx.user.id))
            .source(Some(client.ip.to_string()));
        self.store
            .set_mfa(ctx.user.id, Some(sealed), &hashes, now, &entry)
            .await?;
        self.store
            .use_totp_step(ctx.user.id, i64::try_from(step).unwrap_or(i64::MAX))
            .await?;
        let user = self.store.find_credentials(ctx.user.id).await?.user;
        let issued = if ctx.session.stage == SessionStage::Full {
            // Already signed in: keep the stage, rotate the id.
            let (token, mut session) = self.new_session(&user, SessionStage::Full, client)?;
            session.expires_at = ctx.session.expires_at;
            session.active_tenant = ctx.session.active_tenant;
            self.store.rotate_session(ctx.session.id, &session).await?;
            IssuedSession {
                token,
                session,
                device_cookie: None,
            }
        } else {
            self.advance(&user, Some(ctx.session.id), true, client)
                .await?
        };
        Ok((issued, codes))
    }

    fn new_recovery_codes(&self) -> AppResult<Vec<Secret<String>>> {
        (0..10).map(|_| random_code(2).map(Secret::new)).collect()
    }

    /// Replaces a user's recovery codes with ten new ones.
    ///
    /// # Errors
    /// When the user has no MFA.
    pub async fn regenerate_recovery_codes(&self, p: &Principal) -> AppResult<Vec<Secret<String>>> {
        let user_id = p
            .user_id()
            .ok_or(AppError::Forbidden("only users have recovery codes"))?;
        let creds = self.store.find_credentials(user_id).await?;
        if !creds.user.has_mfa() {
            return Err(AppError::invalid("mfa", "set up MFA first"));
        }
        let codes = self.new_recovery_codes()?;
        let hashes: Vec<String> = codes
            .iter()
            .map(|c| self.recovery_hash(c.expose()))
            .collect();
        let entry = AuditEntry::by(p, self.clock.now(), Action::RecoveryCodesRegenerated)
            .tenant(creds.user.tenant_id)
            .target(format!("user:{user_id}"));
        self.store
            .replace_recovery_codes(user_id, &hashes, &entry)
            .await?;
        Ok(codes)
    }

    /// How many unused recovery codes the principal has left.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn recovery_codes_left(&self, p: &Principal) -> AppResult<u32> {
        let id = p.user_id().ok_or(AppError::NotFound)?;
        Ok(self.store.count_unused_recovery_codes(id).await?)
    }

    /// Changes the password of the session's user. A voluntary change needs
    /// the current password; the forced change after a one-time password
    /// does not (the session proves it was just typed). Every session of the
    /// user ends; the caller receives a new one.
    ///
    /// # Errors
    /// `Invalid` when the new password breaks the policy or the current one
    /// is wrong.
    pub async fn change_password(
        &self,
        ctx: &SessionContext,
        current: Option<&str>,
        new: &str,
        client: &Client,
    ) -> AppResult<IssuedSession> {
        let forced = ctx.session.stage == SessionStage::PasswordChange;
        if !forced && ctx.session.stage != SessionStage::Full {
            return Err(AppError::Forbidden("this step of login is not due"));
        }
        let now = self.clock.now();
        let creds = self.store.find_credentials(ctx.user.id).await?;
        if !forced {
            if let Err(retry_after) = self.throttle.check_mfa(now, ctx.user.id) {
                return Err(AppError::Throttled { retry_after });
            }
            if !password::verify(current.unwrap_or_default(), Some(&creds.password_hash)).await {
                self.throttle.mfa_failed(now, ctx.user.id);
                return Err(AppError::invalid(
                    "current_password",
                    "the current password is not correct",
                ));
            }
        }
        garrison_core::password::check_policy(new, &ctx.user.email)
            .map_err(|e| AppError::invalid("new_password", e.to_string()))?;
        if password::verify(new, Some(&creds.password_hash)).await {
            return Err(AppError::invalid(
                "new_password",
                "choose a password different from the current one",
            ));
        }
        let hash = password::hash(new).await?;
        let entry = AuditEntry::new(now, Action::PasswordChanged, &ctx.user.email)
            .actor(Some(ctx.user.id))
            .tenant(ctx.user.tenant_id)
            .target(format!("user:{}", ctx.user.id))
            .source(Some(client.ip.to_string()));
        // This ends every session of the user, the current one included.
        self.store
            .set_password(ctx.user.id, &hash, false, false, now, &entry)
            .await?;
        let user = self.store.find_credentials(ctx.user.id).await?.user;
        if forced {
            self.advance(&user, None, true, client).await
        } else {
            let (token, mut session) = self.new_session(&user, SessionStage::Full, client)?;
            session.active_tenant = ctx.session.active_tenant;
            self.store.create_session(&session).await?;
            Ok(IssuedSession {
                token,
                session,
                device_cookie: None,
            })
        }
    }

    /// Ends a session.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn logout(&self, ctx: &SessionContext) -> AppResult<()> {
        self.store.delete_session(ctx.session.id).await?;
        if ctx.session.stage == SessionStage::Full {
            let entry = AuditEntry::new(self.clock.now(), Action::Logout, &ctx.user.email)
                .actor(Some(ctx.user.id))
                .tenant(ctx.user.tenant_id)
                .target(format!("user:{}", ctx.user.id))
                .source(ctx.session.source_ip.clone());
            self.store.append_audit(&entry).await?;
        }
        Ok(())
    }

    /// Sets (or clears) the tenant an MSSP user works on in the portal.
    ///
    /// # Errors
    /// `NotFound` when the tenant is not visible to the user.
    pub async fn switch_tenant(
        &self,
        ctx: &SessionContext,
        tenant: Option<TenantId>,
    ) -> AppResult<()> {
        let p = ctx.principal.as_ref().ok_or(AppError::Unauthenticated)?;
        if let Some(t) = tenant {
            let scope = p.scope(t).ok_or(AppError::NotFound)?;
            self.store.find_tenant(&scope).await?;
        }
        let change = SessionChange {
            active_tenant: Some(tenant),
            ..SessionChange::default()
        };
        Ok(self.store.update_session(ctx.session.id, &change).await?)
    }

    /// Resolves an API bearer token to its user's principal.
    ///
    /// # Errors
    /// `Unauthenticated` for an unknown, revoked or expired token, or a
    /// disabled user.
    pub async fn authenticate_token(
        &self,
        bearer: &str,
        source: Option<IpAddr>,
    ) -> AppResult<Principal> {
        if !bearer.starts_with(TOKEN_PREFIX) || bearer.len() > 128 {
            return Err(AppError::Unauthenticated);
        }
        let now = self.clock.now();
        let Some(token) = self.store.find_token_by_hash(&lookup_hash(bearer)).await? else {
            return Err(AppError::Unauthenticated);
        };
        if !token.is_usable(now) {
            return Err(AppError::Unauthenticated);
        }
        let creds = self.store.find_credentials(token.user_id).await?;
        if creds.user.is_disabled {
            return Err(AppError::Unauthenticated);
        }

        if token
            .last_used_at
            .is_none_or(|t| now.since(t).as_secs() >= 60)
        {
            self.store.touch_token(token.id, now).await?;
        }
        let assigned = self.store.list_assignments(creds.user.id).await?;
        Ok(
            principal_of(&creds.user, assigned, AuthMethod::Token(token.id))?
                .with_source(source.map(|ip| ip.to_string())),
        )
    }

    pub(crate) fn new_token(
        &self,
        user: &User,
        name: &str,
        expires_at: Option<Timestamp>,
    ) -> AppResult<IssuedToken> {
        let name = validate::name("name", name, 100)?;
        let secret = format!("{TOKEN_PREFIX}{}", random_token()?);
        let token = ApiToken {
            id: TokenId::new(),
            user_id: user.id,
            name,
            prefix: secret.chars().take(TOKEN_PREFIX.len() + 6).collect(),
            token_hash: lookup_hash(&secret),
            created_at: self.clock.now(),
            last_used_at: None,
            expires_at,
            revoked_at: None,
        };
        Ok(IssuedToken {
            token,
            secret: Secret::new(secret),
        })
    }
}
