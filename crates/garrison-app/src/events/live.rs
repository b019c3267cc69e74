//! The live feed: events as they are stored, for the live view.
//!
//! After a batch's commit (and before its receipt is answered), a pipeline
//! worker hands the batch's events to the [`LiveFeed`]. The feed keeps one
//! bounded `tokio::sync::broadcast` channel per tenant somebody watches,
//! and one for callers who see every tenant (the MSSP admin watching all
//! of them); events are shared as `Arc`s, and nothing is copied when
//! nobody watches. A watcher that falls more than the capacity behind
//! lags: it skips the oldest events and is told how many
//! ([`LiveItem::Lagged`]); publishing never waits for it.
//!
//! Channels are per tenant so that a watcher only ever receives events of
//! tenants it may see, a lag count only counts such events (it never
//! tells a customer how busy other tenants are), and a flooding tenant
//! cannot push another tenant's events out of its watchers' window.
//!
//! [`App::live_events`] resolves visibility first (a named tenant the
//! caller cannot see is `NotFound`), then checks
//! [`Permission::EventRead`], and filters with the search's filter language
//! ([`EventFilter::matches`] decides in memory what the store decides in
//! SQL). A subscription is fixed when it is made: callers holding one for
//! long (a server-sent event stream) re-authenticate now and then and end
//! it when [`LiveEvents::still_fits`] says no.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures_util::stream::{SelectAll, Stream, StreamExt};
use garrison_core::event::Event;
use garrison_core::{Permission, Principal, TenantAccess, TenantId};
use garrison_store::events::matches_all;
use garrison_store::{EventFilter, EventQuery};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use super::search::{parse_filters, require};
use crate::{App, AppError, AppResult};

/// Events one channel holds for its slowest watcher before that watcher
/// lags.
pub const LIVE_CAPACITY: usize = 2048;

type Tx = broadcast::Sender<Arc<Event>>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Stored events for whoever watches, per tenant.
#[derive(Debug)]
pub struct LiveFeed {
    capacity: usize,
    channels: Mutex<Channels>,
}

#[derive(Debug, Default)]
struct Channels {
    closed: bool,
    /// For watchers of every tenant.
    all: Option<Tx>,
    tenants: HashMap<TenantId, Tx>,
}

/// The channels a subscription reads.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Plan {
    All,
    Tenants(BTreeSet<TenantId>),
}

/// The channels a caller with `access` watching `tenant` (or every
/// tenant it may see) reads; `None` when the tenant is not visible.
fn plan_of(access: &TenantAccess, tenant: Option<TenantId>) -> Option<Plan> {
    match tenant {
        Some(t) => access.allows(t).then(|| Plan::Tenants(BTreeSet::from([t]))),
        None => Some(
            access
                .tenants()
                .map_or(Plan::All, |set| Plan::Tenants(set.clone())),
        ),
    }
}

impl LiveFeed {
    /// A feed whose channels hold `capacity` events each (at least 1).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            channels: Mutex::new(Channels::default()),
        }
    }

    /// Hands stored events to their tenants' watchers.
    pub fn publish(&self, events: impl IntoIterator<Item = Event>) {
        let mut ch = lock(&self.channels);
        if ch.closed {
            return;
        }
        ch.tenants.retain(|_, tx| tx.receiver_count() > 0);
        if ch.all.as_ref().is_some_and(|tx| tx.receiver_count() == 0) {
            ch.all = None;
        }
        if ch.tenants.is_empty() && ch.all.is_none() {
            return;
        }
        for e in events {
            let tenant = ch.tenants.get(&e.tenant_id);
            if tenant.is_none() && ch.all.is_none() {
                continue;
            }
            let e = Arc::new(e);
            // A send fails only when the last watcher has just gone.
            if let Some(tx) = tenant {
                let _ = tx.send(e.clone());
            }
            if let Some(tx) = &ch.all {
                let _ = tx.send(e);
            }
        }
    }

    /// Ends every subscription once it has read what it was sent; later
    /// subscriptions end at once. For a server that stops.
    pub fn close(&self) {
        let mut ch = lock(&self.channels);
        ch.closed = true;
        ch.all = None;
        ch.tenants.clear();
    }

    /// How many subscriptions are open (each tenant channel of a
    /// subscription counted).
    #[must_use]
    pub fn watchers(&self) -> usize {
        let ch = lock(&self.channels);
        ch.all.as_ref().map_or(0, Tx::receiver_count)
            + ch.tenants.values().map(Tx::receiver_count).sum::<usize>()
    }

    fn subscribe(&self, plan: &Plan) -> Vec<broadcast::Receiver<Arc<Event>>> {
        let mut ch = lock(&self.channels);
        if ch.closed {
            return Vec::new();
        }
        let capacity = self.capacity;
        let channel = || broadcast::channel(capacity).0;
        match plan {
            Plan::All => vec![ch.all.get_or_insert_with(channel).subscribe()],
            Plan::Tenants(set) => set
                .iter()
                .map(|t| ch.tenants.entry(*t).or_insert_with(channel).subscribe())
                .collect(),
        }
    }
}

/// What a subscription yields.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveItem {
    /// A stored event matching the subscription.
    Event(Arc<Event>),
    /// The subscription fell behind and skipped this many events of the
    /// tenants it watches (matching its filters or not); it goes on with
    /// the oldest event still held.
    Lagged { skipped: u64 },
}

type Feed = Pin<Box<dyn Stream<Item = Result<Arc<Event>, u64>> + Send>>;

fn feed(rx: broadcast::Receiver<Arc<Event>>) -> Feed {
    Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
        match rx.recv().await {
            Ok(e) => Some((Ok(e), rx)),
            Err(RecvError::Lagged(n)) => Some((Err(n), rx)),
            Err(RecvError::Closed) => None,
        }
    }))
}

/// Which events to watch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveQuery {
    /// Only this tenant; every tenant the caller may see when absent.
    pub tenant: Option<TenantId>,
    /// Filters in their text form, as for a search.
    pub filters: Vec<String>,
    /// Free text in the original message.
    pub text: Option<String>,
}

/// A subscription to the live feed: the caller's events as they are
/// stored, filtered.
pub struct LiveEvents {
    feed: SelectAll<Feed>,
    plan: Plan,
    access: TenantAccess,
    tenant: Option<TenantId>,
    filters: Vec<EventFilter>,
}

impl fmt::Debug for LiveEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveEvents")
            .field("plan", &self.plan)
            .field("tenant", &self.tenant)
            .field("filters", &self.filters)
            .finish_non_exhaustive()
    }
}

impl LiveEvents {
    /// The next matching event, or how many events were skipped; `None`
    /// once the feed is closed. Cancel-safe: dropping the future loses
    /// nothing.
    pub async fn next(&mut self) -> Option<LiveItem> {
        while let Some(item) = self.feed.next().await {
            match item {
                Ok(e) if self.wants(&e) => return Some(LiveItem::Event(e)),
                Ok(_) => {}
                Err(skipped) => return Some(LiveItem::Lagged { skipped }),
            }
        }
        None
    }

    fn wants(&self, e: &Event) -> bool {
        // The channels already hold only the watched tenants' events;
        // checked again so that no routing slip can show another's.
        self.access.allows(e.tenant_id)
            && self.tenant.is_none_or(|t| t == e.tenant_id)
            && matches_all(&self.filters, e)
    }

    /// Whether `p` (the caller authenticated again, with its rights as
    /// they are now) would be given this same subscription: it may still
    /// read events and sees exactly the tenants watched. When not, the
    /// holder ends the subscription (a client may subscribe again and get
    /// what it may see now).
    #[must_use]
    pub fn still_fits(&self, p: &Principal) -> bool {
        p.can(Permission::EventRead)
            && plan_of(&p.access(), self.tenant).as_ref() == Some(&self.plan)
    }
}

impl App {
    /// Events as they are stored, for the tenants the caller may see (or
    /// the one named), matching the filters.
    ///
    /// # Errors
    /// `NotFound` when the named tenant is not visible; `Forbidden`
    /// without [`Permission::EventRead`]; `Invalid` naming `f` or `q` for a
    /// bad filter.
    pub async fn live_events(&self, p: &Principal, q: LiveQuery) -> AppResult<LiveEvents> {
        self.visible_tenant(p, q.tenant).await?;
        require(p, Permission::EventRead)?;
        let filters = Self::checked(EventQuery {
            filters: parse_filters(&q.filters, q.text.as_deref())?,
            ..EventQuery::default()
        })?
        .filters;
        let access = p.access();
        let plan = plan_of(&access, q.tenant).ok_or(AppError::NotFound)?;
        let mut all = SelectAll::new();
        for rx in self.pipeline().live().subscribe(&plan) {
            all.push(feed(rx));
        }
        Ok(LiveEvents {
            feed: all,
            plan,
            access,
            tenant: q.tenant,
            filters,
        })
    }
}

#[cfg(test)]
mod tests {
    use garrison_core::event::Fields;
    use garrison_core::{EventId, Timestamp};

    use super::*;

    fn event(tenant: TenantId, n: u8) -> Event {
        Event {
            id: EventId::new(),
            tenant_id: tenant,
            timestamp: Timestamp::from_millis(i64::from(n)),
            received_at: Timestamp::from_millis(i64::from(n)),
            source_id: "test".to_owned(),
            parser: "rfc5424".to_owned(),
            severity: n,
            fields: Fields::new(),
            original: format!("line {n}"),
        }
    }

    fn subscription(feed: &LiveFeed, plan: Plan, access: TenantAccess) -> LiveEvents {
        let mut all = SelectAll::new();
        for rx in feed.subscribe(&plan) {
            all.push(super::feed(rx));
        }
        LiveEvents {
            feed: all,
            plan,
            access,
            tenant: None,
            filters: Vec::new(),
        }
    }

    fn severity(item: Option<LiveItem>) -> u8 {
        match item {
            Some(LiveItem::Event(e)) => e.severity,
            other => panic!("not an event: {other:?}"),
        }
    }

    #[tokio::test]
    async fn watchers_get_their_tenants_events_and_lag_is_counted_not_fatal() {
        let (a, b) = (TenantId::new(), TenantId::new());
        let live = LiveFeed::new(4);
        let everyone = Principal::system("test").access();
        let only_b = everyone.narrowed_to(b).expect("b");
        let mut of_b = subscription(&live, Plan::Tenants(BTreeSet::from([b])), only_b);
        let mut of_all = subscription(&live, Plan::All, everyone);
        live.publish(vec![event(a, 1), event(b, 2), event(a, 3)]);
        assert_eq!(severity(of_b.next().await), 2, "B's watcher sees B's only");
        assert_eq!(severity(of_all.next().await), 1);
        assert_eq!(severity(of_all.next().await), 2);
        assert_eq!(severity(of_all.next().await), 3);

        // Ten of B's events into a channel of four: the watcher skips the
        // six oldest, is told so, and goes on.
        live.publish((10..20).map(|n| event(b, n)));
        assert_eq!(of_b.next().await, Some(LiveItem::Lagged { skipped: 6 }));
        for n in 16..20 {
            assert_eq!(severity(of_b.next().await), n);
        }
        // A's flood never shows in B's channel.
        live.publish((30..40).map(|n| event(a, n)));
        live.publish(vec![event(b, 50)]);
        assert_eq!(severity(of_b.next().await), 50);

        live.close();
        assert_eq!(of_b.next().await, None, "closing ends the subscription");
        assert!(
            subscription(&live, Plan::All, Principal::system("t").access())
                .next()
                .await
                .is_none()
        );
    }

    #[test]
    fn publishing_without_watchers_keeps_nothing() {
        let live = LiveFeed::new(8);
        let t = TenantId::new();
        let plan = Plan::Tenants(BTreeSet::from([t]));
        drop(live.subscribe(&plan));
        live.publish(vec![event(t, 1)]);
        assert_eq!(live.watchers(), 0);
        assert!(
            lock(&live.channels).tenants.is_empty(),
            "the channel is gone"
        );
    }

    #[test]
    fn plans_follow_the_callers_access() {
        let (a, b) = (TenantId::new(), TenantId::new());
        let all = Principal::system("test").access();
        assert_eq!(plan_of(&all, None), Some(Plan::All));
        assert_eq!(
            plan_of(&all, Some(a)),
            Some(Plan::Tenants(BTreeSet::from([a])))
        );
        let only_a = all.narrowed_to(a).expect("a");
        assert_eq!(plan_of(&only_a, Some(b)), None, "another tenant: none");
        assert_eq!(
            plan_of(&only_a, None),
            Some(Plan::Tenants(BTreeSet::from([a])))
        );
    }
}
