//! The password policy: at least 12 characters, not a common password (or a
//! common password dressed up with digits and symbols), not the user's own
//! name, not one character repeated.

use std::collections::HashSet;
use std::sync::OnceLock;

pub const MIN_LEN: usize = 12;
/// Long enough for any passphrase, short enough that hashing stays cheap.
pub const MAX_LEN: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRejection {
    #[error("the password must be at least {MIN_LEN} characters long")]
    TooShort,
    #[error("the password must be at most {MAX_LEN} characters long")]
    TooLong,
    #[error("the password is on the list of commonly used passwords; choose another")]
    Common,
    #[error("the password must not contain your e-mail name")]
    ContainsAccountName,
    #[error("the password is too repetitive; use a passphrase of several words")]
    Repetitive,
}

fn common_passwords() -> &'static HashSet<&'static str> {
    static LIST: OnceLock<HashSet<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("../data/common-passwords.txt")
            .lines()
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// Checks `password` against the policy. `email` is the account's address.
///
/// # Errors
/// The first rule the password breaks.
pub fn check_policy(password: &str, email: &str) -> Result<(), PasswordRejection> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(PasswordRejection::TooShort);
    }
    if len > MAX_LEN {
        return Err(PasswordRejection::TooLong);
    }
    let lower = password.to_lowercase();
    let list = common_passwords();
    if list.contains(lower.as_str()) {
        return Err(PasswordRejection::Common);
    }
    // A common word with digits or symbols around it ("Password12345!") is
    // still a common password to a cracking dictionary.
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    let only_digits = lower.chars().all(|c| c.is_ascii_digit());
    let short_word = !core.is_empty() && core.chars().count() < 6;
    if only_digits || short_word || list.contains(core) {
        return Err(PasswordRejection::Common);
    }
    let local = email.split('@').next().unwrap_or_default().to_lowercase();
    if local.len() >= 4 && lower.contains(&local) {
        return Err(PasswordRejection::ContainsAccountName);
    }
    let distinct: HashSet<char> = lower.chars().collect();
    if distinct.len() < 5 {
        return Err(PasswordRejection::Repetitive);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pw: &str) -> Result<(), PasswordRejection> {
        check_policy(pw, "alice.smith@acme.test")
    }

    #[test]
    fn policy() {
        assert_eq!(check("short"), Err(PasswordRejection::TooShort));
        assert_eq!(check(&"x".repeat(300)), Err(PasswordRejection::TooLong));
        assert_eq!(check("qwertyuiop12"), Err(PasswordRejection::Common));
        assert_eq!(check("1qaz2wsx3edc"), Err(PasswordRejection::Common));
        assert_eq!(check("Password12345!"), Err(PasswordRejection::Common));
        assert_eq!(check("!!Football2024"), Err(PasswordRejection::Common));
        assert_eq!(check("123456789012"), Err(PasswordRejection::Common));
        assert_eq!(
            check("ALICE.SMITH-rocks"),
            Err(PasswordRejection::ContainsAccountName)
        );
        assert_eq!(check("abababababab"), Err(PasswordRejection::Repetitive));
        assert_eq!(check("correct horse battery staple"), Ok(()));
        assert_eq!(check("Tr0ub4dor&3-quietly-violet"), Ok(()));
    }

    #[test]
    fn the_list_is_loaded() {
        assert!(common_passwords().len() > 20_000);
    }
}
