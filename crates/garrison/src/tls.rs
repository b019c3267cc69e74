//! The server certificate: given files, or a self-signed certificate
//! generated once into the data directory.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result};
use garrison_web::server::TlsPem;
use sha2::{Digest, Sha256};

use crate::config::Tls;
use crate::runtime::write_private;

/// The PEMs to serve with, or `None` for plain HTTP.
pub fn load(tls: &Tls, data_dir: &Path, listen: SocketAddr) -> Result<Option<TlsPem>> {
    match tls {
        Tls::Off => Ok(None),
        Tls::Files { cert, key } => Ok(Some(TlsPem {
            cert: std::fs::read(cert).with_context(|| format!("cannot read {}", cert.display()))?,
            key: std::fs::read(key).with_context(|| format!("cannot read {}", key.display()))?,
        })),
        Tls::SelfSigned => self_signed(data_dir, listen).map(Some),
    }
}

fn self_signed(data_dir: &Path, listen: SocketAddr) -> Result<TlsPem> {
    let dir = data_dir.join("tls");
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    if !cert_path.exists() || !key_path.exists() {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let mut names = vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ];
        let ip = listen.ip();
        if !ip.is_unspecified() && !ip.is_loopback() {
            names.push(ip.to_string());
        }
        let certified =
            rcgen::generate_simple_self_signed(names).context("generating a certificate")?;
        let _ = std::fs::remove_file(&key_path);
        let _ = std::fs::remove_file(&cert_path);
        write_private(&key_path, certified.signing_key.serialize_pem().as_bytes())?;
        write_private(&cert_path, certified.cert.pem().as_bytes())?;
        tracing::info!(path = %cert_path.display(), "generated a self-signed TLS certificate");
    }
    Ok(TlsPem {
        cert: std::fs::read(&cert_path)
            .with_context(|| format!("cannot read {}", cert_path.display()))?,
        key: std::fs::read(&key_path)
            .with_context(|| format!("cannot read {}", key_path.display()))?,
    })
}

/// SHA-256 fingerprint of the first certificate in a PEM chain, as
/// colon-separated hex, for people to compare with what their browser shows.
pub fn fingerprint(cert_pem: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(cert_pem).ok()?;
    let start = text.find("-----BEGIN CERTIFICATE-----")? + "-----BEGIN CERTIFICATE-----".len();
    let end = text[start..].find("-----END CERTIFICATE-----")? + start;
    let b64: String = text[start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).ok()?;
    let digest = Sha256::digest(&der);
    Some(
        digest
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}
