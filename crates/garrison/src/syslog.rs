//! The configured syslog listeners (`[[ingest.listeners]]`): tenants
//! resolved and sockets bound before the server reports ready, then served
//! into the app's pipeline bus until shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use garrison_app::App;
use garrison_app::events::observe::ListenerInfo;
use garrison_app::events::pipeline::{Bus, RawLine};
use garrison_core::{Clock, SystemClock};
use garrison_ingest::listen::{self, ListenerConfig, ListenerKind, ListenerStats, ShutdownSignal};
use garrison_web::server::TlsPem;
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinSet;

use crate::commands::admin::operator;
use crate::config::{Config, ConfigError};

enum Socket {
    Udp(UdpSocket),
    Tcp(TcpListener),
    Tls(TcpListener, Arc<rustls::ServerConfig>),
}

struct Bound {
    config: ListenerConfig,
    slug: String,
    addr: SocketAddr,
    socket: Socket,
}

/// Listeners bound to their address and tenant, not yet serving.
#[derive(Default)]
pub struct Listeners(Vec<Bound>);

/// Resolves every listener's tenant and binds its socket. An unknown
/// tenant is a [`ConfigError`]; a TLS listener uses `tls`, the server's
/// certificate and key.
pub async fn bind(config: &Config, app: &App, tls: Option<&TlsPem>) -> Result<Listeners> {
    let op = operator();
    let mut tls_config = None;
    let mut bound = Vec::with_capacity(config.listeners.len());
    for l in &config.listeners {
        let tenant = app
            .tenant_by_slug(&op, &l.tenant)
            .await
            .map_err(|e| match e {
                garrison_app::AppError::NotFound => anyhow::Error::new(ConfigError(format!(
                    "{}.tenant: no tenant has the slug `{}`; see garrison tenant list",
                    l.origin, l.tenant
                ))),
                other => other.into(),
            })?;
        let mut cfg = l.config.clone();
        cfg.tenant = tenant.id;
        let addr: SocketAddr = cfg.addr.parse().with_context(|| {
            format!(
                "{}.listen: {} is not an ip:port address",
                l.origin, cfg.addr
            )
        })?;
        let cannot = || {
            format!(
                "syslog listener {:?} cannot listen on {} {addr}",
                cfg.id,
                cfg.kind.as_str()
            )
        };
        let (socket, local) = match cfg.kind {
            ListenerKind::Udp => {
                let s = UdpSocket::bind(addr).await.with_context(cannot)?;
                let local = s.local_addr()?;
                (Socket::Udp(s), local)
            }
            ListenerKind::Tcp | ListenerKind::Tls => {
                let s = TcpListener::bind(addr).await.with_context(cannot)?;
                let local = s.local_addr()?;
                if cfg.kind == ListenerKind::Tcp {
                    (Socket::Tcp(s), local)
                } else {
                    let server = match &tls_config {
                        Some(c) => Arc::clone(c),
                        None => {
                            let pem = tls.ok_or_else(|| {
                                ConfigError(format!(
                                    "{}.kind: a tls listener needs the server's TLS certificate",
                                    l.origin
                                ))
                            })?;
                            let c = rustls_config(pem)?;
                            tls_config = Some(Arc::clone(&c));
                            c
                        }
                    };
                    (Socket::Tls(s, server), local)
                }
            }
        };
        bound.push(Bound {
            config: cfg,
            slug: tenant.slug,
            addr: local,
            socket,
        });
    }
    Ok(Listeners(bound))
}

/// A `rustls` server configuration from the certificate and key the HTTPS
/// server uses.
fn rustls_config(pem: &TlsPem) -> Result<Arc<rustls::ServerConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_slice_iter(&pem.cert)
        .collect::<Result<Vec<_>, _>>()
        .context("reading the TLS certificate for the syslog listeners")?;
    let key = PrivateKeyDer::from_pem_slice(&pem.key)
        .context("reading the TLS key for the syslog listeners")?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the TLS certificate and key for the syslog listeners")?;
    Ok(Arc::new(config))
}

impl Listeners {
    /// Serves every listener into `app`'s pipeline bus until `shutdown`;
    /// the tasks end once their listener has flushed what it received.
    /// Each listener is registered with the app, so that its counters show
    /// in `/metrics` and on the ingestion page.
    pub fn start(self, app: &App, shutdown: &ShutdownSignal) -> JoinSet<()> {
        let bus: Arc<dyn Bus<RawLine>> = app.pipeline().bus().clone();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let mut tasks = JoinSet::new();
        for b in self.0 {
            tracing::info!(
                "listening for syslog on {} {} for tenant {}",
                b.config.kind.as_str(),
                b.addr,
                b.slug
            );
            let (bus, clock, shutdown) = (bus.clone(), clock.clone(), shutdown.clone());
            let stats = Arc::new(ListenerStats::default());
            app.register_listener(ListenerInfo {
                id: b.config.id.clone(),
                tenant: b.config.tenant,
                transport: b.config.kind,
                addr: b.addr.to_string(),
                format: b.config.format,
                allow: b.config.allow.clone(),
                stats: stats.clone(),
            });
            let id = b.config.id.clone();
            tasks.spawn(async move {
                let served = match b.socket {
                    Socket::Udp(s) => {
                        listen::serve_udp(b.config, s, bus, clock, shutdown, stats).await
                    }
                    Socket::Tcp(s) => {
                        listen::serve_tcp(b.config, s, bus, clock, shutdown, stats).await
                    }
                    Socket::Tls(s, tls) => {
                        listen::serve_tls(b.config, s, tls, bus, clock, shutdown, stats).await
                    }
                };
                if let Err(e) = served {
                    tracing::error!(listener = %id, error = %e, "syslog listener stopped");
                }
            });
        }
        tasks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_listeners_use_the_servers_certificate_and_key() {
        let certified =
            rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
        let pem = TlsPem {
            cert: certified.cert.pem().into_bytes(),
            key: certified.signing_key.serialize_pem().into_bytes(),
        };
        assert!(rustls_config(&pem).is_ok());
        let swapped = TlsPem {
            cert: pem.key.clone(),
            key: pem.cert.clone(),
        };
        assert!(rustls_config(&swapped).is_err());
    }
}
