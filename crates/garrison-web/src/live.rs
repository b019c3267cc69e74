//! Server-sent event streams of the live feed, for the portal's live view
//! and the API.
//!
//! A stream starts with a `ready` event (the subscription exists: every
//! event stored from now on that matches is sent), then sends `event`
//! events (the event as JSON) and `lagged` events (`{"skipped": N}`: the
//! client fell behind and N events of its tenants were skipped), with a
//! keep-alive comment every 15 seconds. Every 30 seconds
//! (`WebConfig::live_recheck`) the caller is authenticated again with the
//! same session or token; the stream ends
//! when that fails (logout, expiry, a revoked token, a disabled user) or
//! when the caller's rights no longer give the same subscription (its
//! tenants or role changed). The stream also ends when the server stops.
//! Browsers reconnect on their own after an end; a reconnection that is
//! no longer allowed is refused like any request.

use std::convert::Infallible;
use std::net::IpAddr;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use garrison_app::App;
use garrison_app::events::live::{LiveEvents, LiveItem};
use garrison_core::Principal;
use garrison_core::event::Event;
use garrison_core::model::SessionStage;

use crate::WebState;
use crate::extract::{SESSION_COOKIE, cookie};

/// How often an idle stream sends a comment (proxies close silent
/// connections).
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// How long a browser waits before reconnecting.
const RETRY: Duration = Duration::from_secs(3);

/// The credentials a stream was opened with, to authenticate again.
pub(crate) enum Reauth {
    Session(String),
    Token { token: String, ip: IpAddr },
}

impl Reauth {
    /// The portal's session cookie.
    pub(crate) fn session(headers: &HeaderMap) -> Option<Self> {
        cookie(headers, SESSION_COOKIE).map(|t| Self::Session(t.to_owned()))
    }

    /// What the API accepted: a bearer token, else the session cookie (as
    /// [`crate::extract::ApiAuth`] decides).
    pub(crate) fn api(headers: &HeaderMap, ip: IpAddr) -> Option<Self> {
        match headers.get(header::AUTHORIZATION) {
            Some(v) => v
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(|t| Self::Token {
                    token: t.trim().to_owned(),
                    ip,
                }),
            None => Self::session(headers),
        }
    }

    /// The caller now, or `None` when the credentials no longer hold.
    async fn principal(&self, app: &App) -> Option<Principal> {
        match self {
            // Not activity: an open live page must not keep an unattended
            // session from idling out.
            Self::Session(token) => app
                .session_still_valid(token)
                .await
                .ok()
                .filter(|c| c.session.stage == SessionStage::Full)
                .and_then(|c| c.principal),
            Self::Token { token, ip } => app.authenticate_token(token, Some(*ip)).await.ok(),
        }
    }
}

struct Tail<F> {
    state: WebState,
    live: LiveEvents,
    reauth: Reauth,
    render: F,
    check: tokio::time::Interval,
    started: bool,
}

fn ready() -> SseEvent {
    SseEvent::default().event("ready").retry(RETRY).data("{}")
}

fn lagged(skipped: u64) -> SseEvent {
    SseEvent::default()
        .event("lagged")
        .data(format!("{{\"skipped\":{skipped}}}"))
}

/// An `event` event with `data` as JSON.
pub(crate) fn event_json<T: serde::Serialize>(data: &T) -> SseEvent {
    SseEvent::default()
        .event("event")
        .json_data(data)
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "a live event could not be written as JSON");
            SseEvent::default().comment("an event could not be written")
        })
}

/// The stream of `live` as a `text/event-stream` response; `render` turns
/// each event into its `event` event.
pub(crate) fn respond<F>(state: WebState, live: LiveEvents, reauth: Reauth, render: F) -> Response
where
    F: Fn(&Event) -> SseEvent + Send + 'static,
{
    let every = state.config().live_recheck.max(Duration::from_millis(10));
    let start = tokio::time::Instant::now() + every;
    let tail = Tail {
        state,
        live,
        reauth,
        render,
        check: tokio::time::interval_at(start, every),
        started: false,
    };
    let stream = futures_util::stream::unfold(tail, |mut t| async move {
        if !t.started {
            t.started = true;
            return Some((Ok::<_, Infallible>(ready()), t));
        }
        loop {
            tokio::select! {
                item = t.live.next() => {
                    let sse = match item? {
                        LiveItem::Event(e) => (t.render)(&e),
                        LiveItem::Lagged { skipped } => lagged(skipped),
                    };
                    return Some((Ok(sse), t));
                }
                _ = t.check.tick() => {
                    let now = t.reauth.principal(t.state.app()).await;
                    if !now.is_some_and(|p| t.live.still_fits(&p)) {
                        return None;
                    }
                }
            }
        }
    });
    let mut resp = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"))
        .into_response();
    // Reverse proxies such as nginx would otherwise hold the events back.
    resp.headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}
