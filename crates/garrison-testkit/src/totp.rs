//! Computing TOTP codes as an authenticator app would (RFC 6238, SHA-1, six
//! digits, 30-second steps).

use totp_rs::{Builder, Secret};

/// The code for `secret_base32` at `unix_secs`.
///
/// # Panics
/// When the secret is not base32.
#[must_use]
pub fn code(secret_base32: &str, unix_secs: i64) -> String {
    let secret = Secret::try_from_base32(secret_base32.trim()).expect("base32 secret");
    let totp = Builder::new().with_secret(secret).build().expect("totp");
    totp.generate(u64::try_from(unix_secs).expect("positive time"))
        .to_string()
}

/// The code for the current wall-clock time plus `offset_secs`.
#[must_use]
pub fn code_now(secret_base32: &str, offset_secs: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    code(secret_base32, now + offset_secs)
}
