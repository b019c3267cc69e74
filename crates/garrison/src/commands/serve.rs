//! `garrison serve`: the web portal and API, and background jobs.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use garrison_app::App;
use garrison_core::Principal;
use garrison_web::{WebConfig, WebState};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::runtime::{self, Opened};
use crate::{syslog, tls};

/// The roles a process can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    pub web: bool,
    pub jobs: bool,
    /// The syslog listeners configured in `[[ingest.listeners]]` (and the
    /// pipeline behind them, which runs in the same process while the bus
    /// is in-process).
    pub ingest: bool,
}

impl Roles {
    pub const ALL: Self = Self {
        web: true,
        jobs: true,
        ingest: true,
    };

    /// Parses `--role` values.
    pub fn parse(values: &[String]) -> Result<Self> {
        if values.is_empty() {
            return Ok(Self::ALL);
        }
        let mut roles = Self {
            web: false,
            jobs: false,
            ingest: false,
        };
        for v in values.iter().map(|v| v.trim()) {
            match v {
                "web" => roles.web = true,
                "jobs" => roles.jobs = true,
                "ingest" => roles.ingest = true,
                "correlate" => bail!(
                    "role `{v}` is not available in this version of Garrison; available roles: web, jobs, ingest"
                ),
                other => bail!("unknown role `{other}`; available roles: web, jobs, ingest"),
            }
        }
        Ok(roles)
    }
}

/// A bound listener and what it will serve.
pub struct Prepared {
    pub listener: TcpListener,
    pub addr: SocketAddr,
    pub tls: Option<garrison_web::server::TlsPem>,
    pub app: Arc<App>,
}

impl Prepared {
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let host = match self.addr.ip() {
            ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        format!("{scheme}://{host}:{}", self.addr.port())
    }

    pub fn fingerprint(&self) -> Option<String> {
        self.tls.as_ref().and_then(|t| tls::fingerprint(&t.cert))
    }
}

/// Binds the listener and loads the certificate, so that errors (a port in
/// use, a bad certificate) surface before anything is printed as ready.
pub fn prepare(config: &Config, opened: &Opened) -> Result<Prepared> {
    let listener = TcpListener::bind(config.listen).with_context(|| {
        format!(
            "cannot listen on {}: is another Garrison running? Choose another address with --listen",
            config.listen
        )
    })?;
    let addr = listener.local_addr()?;
    let tls = tls::load(&config.tls, &config.data_dir, addr)?;
    Ok(Prepared {
        listener,
        addr,
        tls,
        app: runtime::app(config, opened),
    })
}

/// The retention purge runs this long after start (not at once, so that
/// a server restarting in a loop does not purge in a loop), then every
/// [`PURGE_EVERY`].
pub const PURGE_FIRST: Duration = Duration::from_secs(60);
pub const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// The retention purge as a periodic job: every tenant's events older
/// than its retention are deleted (and audited) by the operator
/// `job:retention`. A failed run is logged and retried at the next tick.
pub fn start_purge_job(app: Arc<App>, first: Duration, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let op = Principal::system("job:retention");
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + first, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match app.purge_expired_events(&op, None).await {
                Ok(s) => {
                    if s.purged > 0 {
                        tracing::info!(
                            events.purged = s.purged,
                            tenants = s.tenants.iter().filter(|t| t.purged > 0).count(),
                            "retention purge"
                        );
                    }
                    if s.failed > 0 {
                        tracing::warn!(
                            tenants.failed = s.failed,
                            "the retention purge failed for some tenants; it runs again in an hour"
                        );
                    }
                }
                Err(e) => tracing::warn!(error = %e, "the retention purge failed"),
            }
        }
    })
}

/// What to warn about when `/metrics` is served beyond loopback without a
/// token: its ingestion series name every tenant's id.
pub fn open_metrics_warning(has_token: bool, addr: SocketAddr) -> Option<String> {
    (!has_token && !addr.ip().is_loopback()).then(|| {
        format!(
            "/metrics is served on {addr} without metrics.token: whoever reaches it sees every \
             tenant's id and ingestion counters; set metrics.token (or metrics.token_file), or \
             restrict access to it"
        )
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

/// Resolves the syslog listeners' tenants and binds their sockets, so that
/// an unknown tenant or a port in use surfaces before the server reports
/// ready.
pub async fn listeners(config: &Config, prepared: &Prepared) -> Result<syslog::Listeners> {
    syslog::bind(config, &prepared.app, prepared.tls.as_ref()).await
}

/// Runs the roles and the syslog listeners until a signal arrives; then
/// stops the web server and the listeners, and drains the pipeline.
pub async fn run(
    config: &Config,
    prepared: Prepared,
    roles: Roles,
    listeners: syslog::Listeners,
) -> Result<()> {
    let app = prepared.app.clone();
    match app.fail_interrupted_imports().await {
        Ok(n) if n > 0 => tracing::warn!(
            imports = n,
            "imports interrupted by the last stop were marked failed"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "checking for interrupted imports failed"),
    }
    if roles.jobs {
        start_purge_job(app.clone(), PURGE_FIRST, PURGE_EVERY);
        let app = app.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(600));
            loop {
                tick.tick().await;
                match app.purge_expired_sessions().await {
                    Ok(n) if n > 0 => {
                        tracing::info!(sessions.purged = n, "purged expired sessions")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "purging expired sessions failed"),
                }
            }
        });
    }
    // Drained at the end: what the bus holds is stored before exit.
    let pipeline = app.pipeline();
    // One signal for everything: the web server and the listeners.
    let (trigger, signal) = garrison_ingest::listen::Shutdown::new();
    let live = pipeline.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        // Live event streams never end on their own: end them, or they
        // would hold the web server's drain open.
        live.live().close();
        trigger.trigger();
    });
    let mut syslog = listeners.start(&app, &signal);
    let stop = async |syslog: &mut tokio::task::JoinSet<()>| {
        // Listeners first (they flush what they received onto the bus),
        // then the pipeline stores what the bus holds.
        while syslog.join_next().await.is_some() {}
        pipeline.shutdown().await;
    };
    if !roles.web {
        signal.clone().triggered().await;
        stop(&mut syslog).await;
        return Ok(());
    }
    let web = WebConfig {
        trusted_proxies: config.trusted_proxies.clone(),
        metrics_token: config.metrics_token.clone(),
        max_body_bytes: config.max_body_bytes,
        upload_dir: config.data_dir.join("uploads"),
        max_upload_bytes: config.max_upload_bytes,
        ingest: config.ingest_http.clone(),
        ..WebConfig::default()
    };
    if let Some(warning) = open_metrics_warning(web.metrics_token.is_some(), prepared.addr) {
        tracing::warn!("{warning}");
    }
    let router = garrison_web::router(WebState::new(app, web));
    tracing::info!(listen = %prepared.addr, tls = prepared.tls.is_some(), "serving");
    let mut web_signal = signal.clone();
    let served = garrison_web::server::serve(
        prepared.listener,
        router,
        prepared.tls,
        async move { web_signal.triggered().await },
        Duration::from_secs(10),
    )
    .await
    .context("the web server stopped");
    stop(&mut syslog).await;
    served
}

/// `garrison serve`.
pub async fn serve(config: &Config, roles: Roles) -> Result<()> {
    let opened = runtime::open(config).await?;
    let prepared = prepare(config, &opened)?;
    let listeners = if roles.ingest {
        listeners(config, &prepared).await?
    } else {
        syslog::Listeners::default()
    };
    if let Some(fp) = prepared.fingerprint() {
        println!("TLS certificate SHA-256 fingerprint: {fp}");
    }
    println!("Garrison is listening on {}", prepared.url());
    run(config, prepared, roles, listeners).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles() {
        assert_eq!(Roles::parse(&[]).expect("all"), Roles::ALL);
        assert_eq!(
            Roles::parse(&["web".to_owned()]).expect("web"),
            Roles {
                web: true,
                jobs: false,
                ingest: false,
            }
        );
        assert!(Roles::parse(&["ingest".to_owned()]).expect("ingest").ingest);
        let err = Roles::parse(&["correlate".to_owned()]).expect_err("later");
        assert!(err.to_string().contains("not available"));
        assert!(Roles::parse(&["bogus".to_owned()]).is_err());
    }

    #[test]
    fn open_metrics_beyond_loopback_are_warned_about() {
        let addr = |s: &str| s.parse::<SocketAddr>().expect("addr");
        for quiet in ["127.0.0.1:8443", "[::1]:8443"] {
            assert_eq!(open_metrics_warning(false, addr(quiet)), None, "{quiet}");
        }
        for open in ["0.0.0.0:8443", "[::]:8443", "192.0.2.7:443"] {
            let w = open_metrics_warning(false, addr(open)).expect(open);
            assert!(w.contains("metrics.token"), "{w}");
            assert_eq!(open_metrics_warning(true, addr(open)), None, "{open}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_purge_job_deletes_what_is_past_retention_soon_after_start() {
        use garrison_core::Clock as _;
        use garrison_core::event::{Event, Fields};
        let t = garrison_testkit::TestApp::new().await;
        let acme = t.tenant("acme").await;
        let now = t.clock.now();
        let event = |days: u64| Event {
            id: garrison_core::EventId::new(),
            tenant_id: acme.id,
            timestamp: now.minus(Duration::from_secs(days * 86_400)),
            received_at: now,
            source_id: "test".to_owned(),
            parser: "rfc5424".to_owned(),
            severity: 0,
            fields: Fields::new(),
            original: String::new(),
        };
        t.store
            .insert_events(&[event(1), event(100)])
            .await
            .expect("events");
        let job = start_purge_job(t.app.clone(), Duration::from_millis(10), PURGE_EVERY);
        let count = || async {
            let q = garrison_store::EventQuery {
                from: Some(garrison_core::Timestamp::from_millis(0)),
                until: Some(now.plus(Duration::from_secs(1))),
                ..Default::default()
            };
            t.store
                .search_events(&t.operator().access(), &q)
                .await
                .expect("search")
                .total
        };
        let purged = garrison_testkit::wait_for(Duration::from_secs(10), || async {
            (count().await == 1).then_some(())
        })
        .await;
        job.abort();
        assert!(purged.is_some(), "the 100-day-old event is purged");
    }
}
