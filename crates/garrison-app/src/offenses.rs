//! Offenses for people: the analyst queue across the tenants a principal
//! sees, and one offense with its events.

use garrison_core::event::Event;
use garrison_core::offense::Offense;
use garrison_core::{OffenseId, Permission, Principal};
use garrison_store::{OffenseQuery, Page};

use crate::admin::require;
use crate::{App, AppResult};

/// Events an offense page shows at most (the first ones).
pub const OFFENSE_PAGE_EVENTS: u32 = 100;

/// An offense with the events linked to it.
#[derive(Debug, Clone)]
pub struct OffenseDetail {
    pub offense: Offense,
    /// The first events, oldest first.
    pub events: Vec<Event>,
}

impl App {
    /// Offenses in the principal's tenants (or the one named), highest
    /// magnitude first.
    ///
    /// # Errors
    /// `NotFound` for a tenant the principal does not see; `Forbidden`
    /// without [`Permission::OffenseRead`].
    pub async fn list_offenses(&self, p: &Principal, q: &OffenseQuery) -> AppResult<Page<Offense>> {
        if let Some(t) = q.tenant {
            let scope = crate::admin::scope(p, t)?;
            self.store.find_tenant(&scope).await?;
        }
        require(p, Permission::OffenseRead)?;
        Ok(self.store.list_offenses(&p.access(), q).await?)
    }

    /// One offense and its first events.
    ///
    /// # Errors
    /// `NotFound` when missing or not visible; `Forbidden` without
    /// [`Permission::OffenseRead`].
    pub async fn offense(&self, p: &Principal, id: OffenseId) -> AppResult<OffenseDetail> {
        let access = p.access();
        let offense = self.store.find_offense(&access, id).await?;
        require(p, Permission::OffenseRead)?;
        let ids = self
            .store
            .offense_events(&access, id, OFFENSE_PAGE_EVENTS)
            .await?;
        let mut events = Vec::with_capacity(ids.len());
        for e in ids {
            // An event purged by retention leaves its alert behind.
            match self.store.get_event(&access, e).await {
                Ok(ev) => events.push(ev),
                Err(garrison_store::StoreError::NotFound) => {}
                Err(err) => return Err(err.into()),
            }
        }
        Ok(OffenseDetail { offense, events })
    }
}
