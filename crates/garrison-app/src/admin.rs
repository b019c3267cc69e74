//! Administration: tenants, users, staff assignments, API tokens and the
//! audit trail. Every method takes the acting [`Principal`], checks a named
//! permission, and narrows the store call to what the principal may see;
//! an object outside that answers `NotFound`.

use garrison_core::audit::{Action, AuditEntry, AuditRecord, ChainReport, ChainVerifier};
use garrison_core::model::{ApiToken, NewTenant, NewUser, Tenant, TenantChange, User, UserChange};
use garrison_core::{
    Permission, Principal, Role, Secret, TenantId, TenantScope, Timestamp, TokenId, UserId,
    validate,
};
use garrison_store::{AuditQuery, UserFilter};

use crate::auth::IssuedToken;
use crate::crypto::random_code;
use crate::{App, AppError, AppResult, password};

/// A request to create a user.
#[derive(Debug, Clone)]
pub struct CreateUser {
    pub email: String,
    pub display_name: Option<String>,
    pub role: Role,
    pub tenant: Option<TenantId>,
}

/// A user just created, with the one-time password to hand over.
#[derive(Debug)]
pub struct CreatedUser {
    pub user: User,
    pub one_time_password: Secret<String>,
}

pub(crate) fn require(p: &Principal, permission: Permission) -> AppResult<()> {
    if p.can(permission) {
        Ok(())
    } else {
        Err(AppError::Forbidden("your role does not allow this"))
    }
}

/// The scope for a tenant, or `NotFound` when the principal cannot see it.
pub fn scope(p: &Principal, tenant: TenantId) -> AppResult<TenantScope> {
    p.scope(tenant).ok_or(AppError::NotFound)
}

impl App {
    /// The scope for a tenant that exists and the principal can see.
    async fn existing(&self, p: &Principal, tenant: TenantId) -> AppResult<TenantScope> {
        let scope = scope(p, tenant)?;
        self.store.find_tenant(&scope).await?;
        Ok(scope)
    }

    fn entry(&self, p: &Principal, action: Action) -> AuditEntry {
        AuditEntry::by(p, self.clock.now(), action)
    }

    // --- tenants ---------------------------------------------------------

    /// Creates a customer organisation.
    ///
    /// # Errors
    /// `Forbidden` unless MSSP admin; `Invalid` for a bad slug or name;
    /// `Conflict` when the slug is taken.
    pub async fn create_tenant(&self, p: &Principal, slug: &str, name: &str) -> AppResult<Tenant> {
        require(p, Permission::TenantCreate)?;
        let slug = validate::slug(slug)?;
        let name = validate::name("name", name, 200)?;
        let tenant = NewTenant {
            id: TenantId::new(),
            slug: slug.clone(),
            name: name.clone(),
            created_at: self.clock.now(),
        };
        let entry = self
            .entry(p, Action::TenantCreated)
            .tenant(Some(tenant.id))
            .target(format!("tenant:{}", tenant.id))
            .details(&serde_json::json!({ "slug": slug, "name": name }));
        Ok(self.store.create_tenant(&tenant, &entry).await?)
    }

    /// Tenants the principal can see.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn list_tenants(&self, p: &Principal) -> AppResult<Vec<Tenant>> {
        require(p, Permission::TenantRead)?;
        Ok(self.store.list_tenants(&p.access()).await?)
    }

    /// # Errors
    /// `NotFound` when missing or not visible.
    pub async fn tenant(&self, p: &Principal, id: TenantId) -> AppResult<Tenant> {
        require(p, Permission::TenantRead)?;
        Ok(self.store.find_tenant(&scope(p, id)?).await?)
    }

    /// # Errors
    /// `NotFound` when missing or not visible.
    pub async fn tenant_by_slug(&self, p: &Principal, slug: &str) -> AppResult<Tenant> {
        require(p, Permission::TenantRead)?;
        Ok(self.store.find_tenant_by_slug(&p.access(), slug).await?)
    }

    /// Changes a tenant's name or MFA policy.
    ///
    /// # Errors
    /// `NotFound` when not visible, `Forbidden` without the permission.
    pub async fn update_tenant(
        &self,
        p: &Principal,
        id: TenantId,
        change: TenantChange,
    ) -> AppResult<Tenant> {
        let scope = scope(p, id)?;
        require(p, Permission::TenantSettingsManage)?;
        let change = TenantChange {
            name: change
                .name
                .map(|n| validate::name("name", &n, 200))
                .transpose()?,
            mfa_required_for_all: change.mfa_required_for_all,
        };
        let entry = self
            .entry(p, Action::TenantUpdated)
            .tenant(Some(id))
            .target(format!("tenant:{id}"))
            .details(&serde_json::json!({
                "name": change.name,
                "mfa_required_for_all": change.mfa_required_for_all,
            }));
        Ok(self.store.update_tenant(&scope, &change, &entry).await?)
    }

    // --- users -----------------------------------------------------------

    /// Creates a user with a one-time password they must change at first
    /// login.
    ///
    /// # Errors
    /// `Forbidden` when the principal may not grant the role; `NotFound`
    /// when the tenant is not visible; `Invalid` when role and tenant do not
    /// fit; `Conflict` when the e-mail is taken.
    pub async fn create_user(&self, p: &Principal, req: CreateUser) -> AppResult<CreatedUser> {
        // A tenant the principal cannot see is "not found", whatever the role.
        if let Some(t) = req.tenant {
            self.existing(p, t).await?;
        }
        require(p, Permission::UserManage)?;
        if !p.role().can_grant(req.role) {
            return Err(AppError::Forbidden("your role cannot grant this role"));
        }
        let tenant = match (req.role.is_mssp(), req.tenant) {
            (true, Some(_)) => {
                return Err(AppError::invalid(
                    "tenant",
                    "MSSP staff do not belong to a tenant; omit the tenant",
                ));
            }
            (false, None) => {
                return Err(AppError::invalid(
                    "tenant",
                    "a customer user needs a tenant",
                ));
            }
            (true, None) => None,
            (false, Some(t)) => Some(t),
        };
        let email = validate::email(&req.email)?;
        let display_name = match req.display_name.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => validate::name("display_name", n, 100)?,
            _ => email.split('@').next().unwrap_or_default().to_owned(),
        };
        let one_time = Secret::new(random_code(4)?);
        let hash = password::hash(one_time.expose()).await?;
        let new = NewUser {
            id: UserId::new(),
            tenant_id: tenant,
            email: email.clone(),
            display_name,
            role: req.role,
            password_hash: hash,
            must_change_password: true,
            created_at: self.clock.now(),
        };
        let entry = self
            .entry(p, Action::UserCreated)
            .tenant(tenant)
            .target(format!("user:{}", new.id))
            .details(&serde_json::json!({ "email": email, "role": req.role.as_str() }));
        let user = self.store.create_user(&new, &entry).await?;
        Ok(CreatedUser {
            user,
            one_time_password: one_time,
        })
    }

    /// Users the principal can see.
    ///
    /// # Errors
    /// `Forbidden` without `UserRead`.
    pub async fn list_users(&self, p: &Principal, filter: UserFilter) -> AppResult<Vec<User>> {
        if let UserFilter::Tenant(t) = filter {
            self.existing(p, t).await?;
        }
        require(p, Permission::UserRead)?;
        Ok(self.store.list_users(&p.access(), filter).await?)
    }

    /// # Errors
    /// `NotFound` when missing or not visible.
    pub async fn user(&self, p: &Principal, id: UserId) -> AppResult<User> {
        if p.user_id() == Some(id) {
            return Ok(self.store.find_credentials(id).await?.user);
        }
        // Visibility first: an invisible user is "not found" for every role.
        let user = self.store.find_user(&p.access(), id).await?;
        require(p, Permission::UserRead)?;
        Ok(user)
    }

    /// A user the principal can see, by e-mail address.
    ///
    /// # Errors
    /// `NotFound` when missing or not visible.
    pub async fn user_by_email(&self, p: &Principal, email: &str) -> AppResult<User> {
        require(p, Permission::UserRead)?;
        let email = validate::email(email)?;
        let creds = self
            .store
            .find_credentials_by_email(&email)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(self.store.find_user(&p.access(), creds.user.id).await?)
    }

    /// Changes a user's display name, role or disabled flag.
    ///
    /// # Errors
    /// `NotFound` when not visible; `Forbidden` for a role the principal
    /// cannot grant or a change to oneself that would lock one out.
    pub async fn update_user(
        &self,
        p: &Principal,
        id: UserId,
        change: UserChange,
    ) -> AppResult<User> {
        let current = self.store.find_user(&p.access(), id).await?;
        require(p, Permission::UserManage)?;
        if !p.role().can_grant(current.role) {
            return Err(AppError::Forbidden("your role cannot manage this user"));
        }
        if let Some(role) = change.role {
            if !p.role().can_grant(role) {
                return Err(AppError::Forbidden("your role cannot grant this role"));
            }
            if role.is_mssp() != current.role.is_mssp() {
                return Err(AppError::invalid(
                    "role",
                    "a user cannot move between MSSP and customer roles; create a new user instead",
                ));
            }
        }
        if p.user_id() == Some(id)
            && (change.role.is_some_and(|r| r != current.role) || change.is_disabled == Some(true))
        {
            return Err(AppError::Forbidden(
                "you cannot change your own role or disable yourself",
            ));
        }
        let change = UserChange {
            display_name: change
                .display_name
                .map(|n| validate::name("display_name", &n, 100))
                .transpose()?,
            ..change
        };
        let entry = self
            .entry(p, Action::UserUpdated)
            .tenant(current.tenant_id)
            .target(format!("user:{id}"))
            .details(&serde_json::json!({
                "display_name": change.display_name,
                "role": change.role.map(Role::as_str),
                "disabled": change.is_disabled,
            }));
        let updated = self
            .store
            .update_user(&p.access(), id, &change, self.clock.now(), &entry)
            .await?;
        // A promotion into a role that must use MFA, for a user who has
        // none: tokens made without MFA must not carry the new rights. Open
        // sessions are sent to enrolment by `App::session`.
        if change
            .role
            .is_some_and(|r| r.always_requires_mfa() && !current.role.always_requires_mfa())
            && !updated.has_mfa()
        {
            let entry = self
                .entry(p, Action::TokensRevokedForMfa)
                .tenant(updated.tenant_id)
                .target(format!("user:{id}"));
            self.store
                .revoke_user_tokens(id, self.clock.now(), &entry)
                .await?;
        }
        Ok(updated)
    }

    async fn manageable_user(&self, p: &Principal, id: UserId) -> AppResult<User> {
        let user = self.store.find_user(&p.access(), id).await?;
        require(p, Permission::UserManage)?;
        if !p.role().can_grant(user.role) {
            return Err(AppError::Forbidden("your role cannot manage this user"));
        }
        Ok(user)
    }

    /// An administrator's reset is for someone else: one's own password
    /// and MFA change through the account page, which asks for the current
    /// password and cannot be reached with an API token alone.
    async fn other_manageable_user(&self, p: &Principal, id: UserId) -> AppResult<User> {
        let user = self.manageable_user(p, id).await?;
        if p.user_id() == Some(id) {
            return Err(AppError::Forbidden(
                "reset your own password or MFA from your account page, not as an administrator",
            ));
        }
        Ok(user)
    }

    /// Sets a new one-time password for a user, ends their sessions and
    /// revokes their API tokens (a reset is what follows a suspected
    /// compromise).
    ///
    /// # Errors
    /// As for [`App::update_user`]; `Forbidden` for one's own account.
    pub async fn reset_password(&self, p: &Principal, id: UserId) -> AppResult<Secret<String>> {
        let user = self.other_manageable_user(p, id).await?;
        let one_time = Secret::new(random_code(4)?);
        let hash = password::hash(one_time.expose()).await?;
        let entry = self
            .entry(p, Action::PasswordReset)
            .tenant(user.tenant_id)
            .target(format!("user:{id}"));
        self.store
            .set_password(id, &hash, true, true, self.clock.now(), &entry)
            .await?;
        Ok(one_time)
    }

    /// Removes a user's MFA (a lost device); they enrol again at next login.
    ///
    /// # Errors
    /// As for [`App::update_user`]; `Forbidden` for one's own account.
    pub async fn reset_mfa(&self, p: &Principal, id: UserId) -> AppResult<()> {
        let user = self.other_manageable_user(p, id).await?;
        let entry = self
            .entry(p, Action::MfaReset)
            .tenant(user.tenant_id)
            .target(format!("user:{id}"));
        self.store
            .set_mfa(id, None, &[], self.clock.now(), &entry)
            .await?;
        self.store.delete_user_sessions(id, None).await?;
        Ok(())
    }

    // --- staff assignments -----------------------------------------------

    async fn assignable_staff(
        &self,
        p: &Principal,
        user: UserId,
        tenant: TenantId,
    ) -> AppResult<(User, TenantScope)> {
        let scope = scope(p, tenant)?;
        let staff = self.store.find_user(&p.access(), user).await?;
        require(p, Permission::StaffAssignmentManage)?;
        if !matches!(staff.role, Role::MsspAnalyst | Role::MsspEngineer) {
            return Err(AppError::invalid(
                "user",
                "only MSSP analysts and engineers are assigned to tenants; MSSP admins see every tenant",
            ));
        }
        Ok((staff, scope))
    }

    /// # Errors
    /// `Forbidden` unless MSSP admin; `Invalid` for a user who is not an
    /// analyst or engineer.
    pub async fn assign_staff(
        &self,
        p: &Principal,
        user: UserId,
        tenant: TenantId,
    ) -> AppResult<()> {
        let (staff, scope) = self.assignable_staff(p, user, tenant).await?;
        let entry = self
            .entry(p, Action::StaffAssigned)
            .tenant(Some(tenant))
            .target(format!("user:{}", staff.id));
        Ok(self
            .store
            .assign_staff(staff.id, &scope, self.clock.now(), &entry)
            .await?)
    }

    /// # Errors
    /// As for [`App::assign_staff`]; `NotFound` when not assigned.
    pub async fn unassign_staff(
        &self,
        p: &Principal,
        user: UserId,
        tenant: TenantId,
    ) -> AppResult<()> {
        let (staff, scope) = self.assignable_staff(p, user, tenant).await?;
        let entry = self
            .entry(p, Action::StaffUnassigned)
            .tenant(Some(tenant))
            .target(format!("user:{}", staff.id));
        Ok(self.store.unassign_staff(staff.id, &scope, &entry).await?)
    }

    /// Tenants an MSSP user is assigned to (visible ones only).
    ///
    /// # Errors
    /// `NotFound` when the user is not visible.
    pub async fn assignments(&self, p: &Principal, user: UserId) -> AppResult<Vec<TenantId>> {
        self.user(p, user).await?;
        let access = p.access();
        Ok(self
            .store
            .list_assignments(user)
            .await?
            .into_iter()
            .filter(|t| access.allows(*t))
            .collect())
    }

    /// MSSP staff assigned to a tenant.
    ///
    /// # Errors
    /// `NotFound` when the tenant is not visible.
    pub async fn assigned_staff(&self, p: &Principal, tenant: TenantId) -> AppResult<Vec<User>> {
        let scope = self.existing(p, tenant).await?;
        require(p, Permission::UserRead)?;
        Ok(self.store.list_assigned_staff(&scope).await?)
    }

    // --- API tokens --------------------------------------------------------

    /// Creates an API token for the principal's own user. It carries that
    /// user's rights, whatever they are when it is used.
    ///
    /// # Errors
    /// `Invalid` for a bad name or lifetime.
    pub async fn create_token(
        &self,
        p: &Principal,
        name: &str,
        expires_in_days: Option<u32>,
    ) -> AppResult<IssuedToken> {
        require(p, Permission::OwnAccountManage)?;
        // A token cannot breed tokens: a stolen one would otherwise mint
        // never-expiring successors.
        if matches!(p.method(), garrison_core::tenancy::AuthMethod::Token(_)) {
            return Err(AppError::Forbidden(
                "create API tokens from a signed-in portal session, not with another token",
            ));
        }
        let user_id = p
            .user_id()
            .ok_or(AppError::invalid("user", "name the user the token is for"))?;
        let user = self.store.find_credentials(user_id).await?.user;
        self.issue_token(p, &user, name, expires_in_days).await
    }

    /// Operator path: creates a token for any user (the `garrison token
    /// create` command, run by whoever holds the data directory).
    ///
    /// # Errors
    /// `NotFound` when no user has that e-mail.
    pub async fn create_token_for(
        &self,
        p: &Principal,
        email: &str,
        name: &str,
        expires_in_days: Option<u32>,
    ) -> AppResult<IssuedToken> {
        require(p, Permission::UserManage)?;
        let user = self.user_by_email(p, email).await?;
        if !p.role().can_grant(user.role) {
            return Err(AppError::Forbidden("your role cannot manage this user"));
        }
        self.issue_token(p, &user, name, expires_in_days).await
    }

    async fn issue_token(
        &self,
        p: &Principal,
        user: &User,
        name: &str,
        expires_in_days: Option<u32>,
    ) -> AppResult<IssuedToken> {
        if user.is_disabled {
            return Err(AppError::invalid("user", "the user is disabled"));
        }
        let expires_at = match expires_in_days {
            Some(0) | None => None,
            Some(d) if d > 3650 => {
                return Err(AppError::invalid("expires_in_days", "at most 3650 days"));
            }
            Some(d) => Some(
                self.clock
                    .now()
                    .plus(std::time::Duration::from_secs(u64::from(d) * 86_400)),
            ),
        };
        let issued = self.new_token(user, name, expires_at)?;
        let entry = self
            .entry(p, Action::TokenCreated)
            .tenant(user.tenant_id)
            .target(format!("token:{}", issued.token.id))
            .details(&serde_json::json!({ "name": issued.token.name, "user": user.id, "prefix": issued.token.prefix }));
        self.store.create_token(&issued.token, &entry).await?;
        Ok(issued)
    }

    /// Tokens of `user` (default: the principal's own). Administrators may
    /// list the tokens of users they manage.
    ///
    /// # Errors
    /// `NotFound` when the user is not visible.
    pub async fn list_tokens(
        &self,
        p: &Principal,
        user: Option<UserId>,
    ) -> AppResult<Vec<ApiToken>> {
        let owner = self.token_owner(p, user).await?;
        Ok(self.store.list_tokens(owner).await?)
    }

    async fn token_owner(&self, p: &Principal, user: Option<UserId>) -> AppResult<UserId> {
        match (user, p.user_id()) {
            (Some(u), Some(me)) if u == me => Ok(me),
            (None, Some(me)) => Ok(me),
            (None, None) => Err(AppError::invalid("user", "name the user")),
            (Some(u), _) => Ok(self.manageable_user(p, u).await?.id),
        }
    }

    /// Revokes a token of `user` (default: the principal's own).
    ///
    /// # Errors
    /// `NotFound` when the token is not that user's or not visible.
    pub async fn revoke_token(
        &self,
        p: &Principal,
        user: Option<UserId>,
        id: TokenId,
    ) -> AppResult<()> {
        let owner = self.token_owner(p, user).await?;
        let tenant = self.store.find_credentials(owner).await?.user.tenant_id;
        let entry = self
            .entry(p, Action::TokenRevoked)
            .tenant(tenant)
            .target(format!("token:{id}"));
        Ok(self
            .store
            .revoke_token(owner, id, self.clock.now(), &entry)
            .await?)
    }

    // --- audit -------------------------------------------------------------

    /// Audit records the principal may read, newest first.
    ///
    /// # Errors
    /// `Forbidden` without `AuditRead`.
    pub async fn list_audit(
        &self,
        p: &Principal,
        query: &AuditQuery,
    ) -> AppResult<Vec<AuditRecord>> {
        if let Some(t) = query.tenant {
            self.existing(p, t).await?;
        }
        require(p, Permission::AuditRead)?;
        Ok(self.store.list_audit(&p.access(), query).await?)
    }

    /// Walks the whole audit chain; with `anchor` (a line from an earlier
    /// verification, see [`App::audit_anchor`]) also checks that the chain
    /// still holds what was seen then.
    ///
    /// # Errors
    /// `Forbidden` unless MSSP admin; `Invalid` for an anchor that is not
    /// sealed with this server's key.
    pub async fn verify_audit(
        &self,
        p: &Principal,
        anchor: Option<&str>,
    ) -> AppResult<ChainReport> {
        require(p, Permission::AuditVerify)?;
        let mut verifier = ChainVerifier::new(self.keys.chain());
        if let Some(line) = anchor {
            let anchor = self.keys.chain().parse_anchor(line).ok_or_else(|| {
                AppError::invalid(
                    "anchor",
                    "the audit anchor is damaged or from another server key",
                )
            })?;
            verifier = verifier.with_anchor(anchor);
        }
        // Records appended while the walk runs are checked against the head
        // read at the end; anything beyond that head was inserted.
        let first_head = self.store.audit_head().await?.map_or(0, |h| h.seq);
        let mut later = Vec::new();
        let mut after = 0;
        loop {
            let page = self.store.audit_chain_page(after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for r in page {
                if r.seq <= first_head {
                    verifier.feed(&r);
                } else {
                    later.push(r);
                }
            }
        }
        let head = self.store.audit_head().await?;
        let last_head = head.as_ref().map_or(0, |h| h.seq);
        for r in &later {
            if r.seq <= last_head {
                verifier.feed(r);
            } else {
                verifier.beyond_head(r);
            }
        }
        Ok(verifier.finish(head))
    }

    /// The anchor line to keep after an intact verification.
    #[must_use]
    pub fn audit_anchor(&self, report: &ChainReport) -> Option<String> {
        report
            .is_intact()
            .then(|| {
                report
                    .head
                    .as_ref()
                    .map(|h| self.keys.chain().anchor_line(h))
            })
            .flatten()
    }

    /// The current time on the application's clock.
    #[must_use]
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}
