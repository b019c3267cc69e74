//! Serving the router over HTTPS (rustls) or, behind a TLS-terminating
//! proxy, plain HTTP. Shutdown lets requests in flight finish.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;

/// A certificate chain and private key, PEM-encoded.
#[derive(Clone)]
pub struct TlsPem {
    pub cert: Vec<u8>,
    pub key: Vec<u8>,
}

impl std::fmt::Debug for TlsPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsPem([redacted])")
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then drains
/// for up to `grace`.
///
/// # Errors
/// When the certificate or key cannot be used, or the listener fails.
pub async fn serve(
    listener: std::net::TcpListener,
    router: Router,
    tls: Option<TlsPem>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let make = router.into_make_service_with_connect_info::<SocketAddr>();
    match tls {
        Some(pem) => {
            let config = RustlsConfig::from_pem(pem.cert, pem.key)
                .await
                .map_err(|e| {
                    std::io::Error::new(
                        e.kind(),
                        format!("the TLS certificate or key cannot be used: {e}"),
                    )
                })?;
            let handle: Handle<SocketAddr> = Handle::new();
            let h = handle.clone();
            tokio::spawn(async move {
                shutdown.await;
                h.graceful_shutdown(Some(grace));
            });
            axum_server::from_tcp_rustls(listener, config)?
                .handle(handle)
                .serve(make)
                .await
        }
        None => {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            axum::serve(listener, make)
                .with_graceful_shutdown(shutdown)
                .await
        }
    }
}
