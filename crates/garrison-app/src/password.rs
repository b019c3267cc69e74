//! Argon2id password hashing, off the async threads.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use garrison_core::Secret;

use crate::AppError;

/// Hashes a password with Argon2id (the crate's defaults: 19 MiB, 2 passes).
///
/// # Errors
/// When the hashing thread fails.
pub async fn hash(password: &str) -> Result<Secret<String>, AppError> {
    let pw = Secret::new(password.to_owned());
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(pw.expose().as_bytes())
            .map(|h| Secret::new(h.to_string()))
            .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(format!("password hashing thread failed: {e}")))?
}

/// Checks a password against a stored hash. `None` for the hash checks
/// against a fixed dummy hash, so an unknown account costs the same time as
/// a known one.
pub async fn verify(password: &str, stored: Option<&Secret<String>>) -> bool {
    let pw = Secret::new(password.to_owned());
    let known = stored.is_some();
    let hash = stored.map_or_else(|| dummy_hash().to_owned(), |h| h.expose().clone());
    let hash = Secret::new(hash);
    let ok = tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(pw.expose().as_bytes(), hash.expose().as_str())
            .is_ok()
    })
    .await
    .unwrap_or(false);
    ok && known
}

fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        Argon2::default()
            .hash_password(b"garrison-dummy-password-for-timing")
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_and_verify() {
        let h = hash("correct horse battery staple").await.expect("hash");
        assert!(h.expose().starts_with("$argon2id$"));
        assert!(verify("correct horse battery staple", Some(&h)).await);
        assert!(!verify("wrong horse battery staple", Some(&h)).await);
        assert!(
            !verify("garrison-dummy-password-for-timing", None).await,
            "no account, no login"
        );
        assert!(!verify("x", Some(&Secret::new("not a hash".to_owned()))).await);
    }
}
