//! Key derivation, random secrets, sealing and hashing of lookup secrets.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::Aead;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit};
use garrison_core::Secret;
use garrison_core::audit::ChainKey;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::AppError;

/// The server's master secret and the keys derived from it. One master
/// secret (a file in the data directory, or `GARRISON_SECRET_KEY`) is all
/// an operator has to keep; each use gets its own derived key.
#[derive(Clone)]
pub struct Keys {
    chain: ChainKey,
    seal: Secret<Vec<u8>>,
    device: Secret<Vec<u8>>,
    recovery: Secret<Vec<u8>>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys([redacted])")
    }
}

fn derive(master: &[u8], label: &str) -> Vec<u8> {
    hmac_sha256(master, label.as_bytes()).to_vec()
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(key)
        .expect("HMAC takes a key of any length");
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

impl Keys {
    /// Derives the keys from a master secret of at least 32 bytes.
    ///
    /// # Errors
    /// When the master secret is shorter than 32 bytes.
    pub fn from_master(master: &[u8]) -> Result<Self, AppError> {
        if master.len() < 32 {
            return Err(AppError::invalid(
                "secret_key",
                "the master secret must be at least 32 bytes",
            ));
        }
        Ok(Self {
            chain: ChainKey::new(derive(master, "garrison/audit-chain/v1")),
            seal: Secret::new(derive(master, "garrison/seal/v1")),
            device: Secret::new(derive(master, "garrison/device-cookie/v1")),
            recovery: Secret::new(derive(master, "garrison/recovery-codes/v1")),
        })
    }

    #[must_use]
    pub const fn chain(&self) -> &ChainKey {
        &self.chain
    }

    /// Encrypts a small secret for storage (TOTP secrets), as
    /// `base64(nonce || ciphertext)`.
    pub(crate) fn seal(&self, plaintext: &[u8]) -> Result<String, AppError> {
        let cipher = ChaCha20Poly1305::new_from_slice(self.seal.expose())
            .map_err(|_| AppError::Internal("bad seal key length".into()))?;
        let nonce_bytes: [u8; 12] = random_bytes()?;
        let nonce = chacha20poly1305::Nonce::from(nonce_bytes);
        let ct = cipher
            .encrypt(&nonce, plaintext)
            .map_err(|_| AppError::Internal("sealing failed".into()))?;
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&ct);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    pub(crate) fn open(&self, sealed: &str) -> Result<Secret<Vec<u8>>, AppError> {
        let corrupt = || {
            AppError::Internal("a sealed secret cannot be opened: wrong key or corrupt data".into())
        };
        let raw = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| corrupt())?;
        if raw.len() < 12 {
            return Err(corrupt());
        }
        let (nonce, ct) = raw.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| corrupt())?;
        let cipher = ChaCha20Poly1305::new_from_slice(self.seal.expose()).map_err(|_| corrupt())?;
        cipher
            .decrypt(&chacha20poly1305::Nonce::from(nonce), ct)
            .map(Secret::new)
            .map_err(|_| corrupt())
    }

    /// Keyed hash of an MFA recovery code. Keyed, because a recovery code
    /// has only about 50 bits: a plain hash could be brute-forced from a
    /// stolen database.
    pub(crate) fn code_hash(&self, code: &str) -> String {
        hex::encode(hmac_sha256(self.recovery.expose(), code.as_bytes()))
    }

    /// A device cookie value for `email`, valid until `until_secs`.
    pub(crate) fn sign_device(&self, email: &str, until_secs: i64) -> String {
        let body = format!("{}.{until_secs}", URL_SAFE_NO_PAD.encode(email));
        let mac = hmac_sha256(self.device.expose(), body.as_bytes());
        format!("{body}.{}", URL_SAFE_NO_PAD.encode(mac))
    }

    /// The e-mail a device cookie vouches for, if it is genuine and current.
    pub(crate) fn verify_device(&self, cookie: &str, now_secs: i64) -> Option<String> {
        let (body, mac) = cookie.rsplit_once('.')?;
        let expected = hmac_sha256(self.device.expose(), body.as_bytes());
        let given = URL_SAFE_NO_PAD.decode(mac).ok()?;
        if !bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..], &given[..])) {
            return None;
        }
        let (email, until) = body.split_once('.')?;
        let until: i64 = until.parse().ok()?;
        if until < now_secs {
            return None;
        }
        String::from_utf8(URL_SAFE_NO_PAD.decode(email).ok()?).ok()
    }
}

/// `N` bytes from the operating system's CSPRNG.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], AppError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf)
        .map_err(|e| AppError::Unavailable(format!("no randomness from the OS: {e}")))?;
    Ok(buf)
}

/// A random URL-safe secret of 32 bytes (256 bits).
pub fn random_token() -> Result<String, AppError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// SHA-256 of a high-entropy secret, hex-encoded: how session and API
/// tokens are stored. (Passwords use Argon2id instead.)
#[must_use]
pub fn lookup_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A random code from an alphabet without look-alike characters, in groups
/// of five separated by hyphens: `7kq2m-x9fht-...`.
pub(crate) fn random_code(groups: usize) -> Result<String, AppError> {
    const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
    let mut out = String::with_capacity(groups * 6);
    for g in 0..groups {
        if g > 0 {
            out.push('-');
        }
        for b in random_bytes::<5>()? {
            // 31 symbols: reject-free mapping is slightly biased; use the
            // top of the byte range only to keep it uniform.
            let mut byte = b;
            while usize::from(byte) >= 248 {
                byte = random_bytes::<1>()?[0];
            }
            out.push(char::from(ALPHABET[usize::from(byte) % ALPHABET.len()]));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys::from_master(&[7u8; 32]).expect("keys")
    }

    #[test]
    fn short_master_secrets_are_refused() {
        assert!(Keys::from_master(&[1u8; 31]).is_err());
    }

    #[test]
    fn seal_round_trip_and_tamper() {
        let k = keys();
        let sealed = k.seal(b"totp-secret").expect("seal");
        assert_eq!(k.open(&sealed).expect("open").expose(), b"totp-secret");
        assert_ne!(
            sealed,
            k.seal(b"totp-secret").expect("seal"),
            "fresh nonce each time"
        );
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed).expect("b64");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(k.open(&URL_SAFE_NO_PAD.encode(bytes)).is_err());
        let other = Keys::from_master(&[8u8; 32]).expect("keys");
        assert!(other.open(&sealed).is_err());
    }

    #[test]
    fn device_cookies() {
        let k = keys();
        let c = k.sign_device("a@acme.test", 100);
        assert_eq!(k.verify_device(&c, 50).as_deref(), Some("a@acme.test"));
        assert_eq!(k.verify_device(&c, 101), None, "expired");
        let forged = c.replacen("100", "999", 1);
        assert_eq!(k.verify_device(&forged, 50), None);
        assert_eq!(k.verify_device("garbage", 50), None);
    }

    #[test]
    fn codes_look_right() {
        let c = random_code(4).expect("code");
        assert_eq!(c.len(), 23);
        assert_eq!(c.matches('-').count(), 3);
        assert!(
            c.chars()
                .all(|ch| ch == '-' || "23456789abcdefghjkmnpqrstuvwxyz".contains(ch))
        );
    }
}
