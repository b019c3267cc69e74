//! Validation of names and identifiers that people type. Each function
//! returns the normalised value or a reason a person can act on.

/// A reason an input was refused, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct Invalid {
    pub field: &'static str,
    pub reason: String,
}

impl Invalid {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// Tenant slugs appear in URLs, CLI arguments and file names.
///
/// # Errors
/// When the slug is not 2–63 characters of `a-z`, `0-9` and inner `-`.
pub fn slug(input: &str) -> Result<String, Invalid> {
    let s = input.trim();
    let ok_len = (2..=63).contains(&s.len());
    let ok_chars = s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let ok_ends = !s.starts_with('-') && !s.ends_with('-');
    if ok_len && ok_chars && ok_ends {
        Ok(s.to_owned())
    } else {
        Err(Invalid::new(
            "slug",
            format!(
                "`{}` is not a valid slug: use 2 to 63 lower-case letters, digits and inner hyphens, e.g. `acme-corp`",
                s.escape_default()
            ),
        ))
    }
}

/// E-mail addresses are the login name; compared lower-cased.
///
/// # Errors
/// When the address is empty, too long, or not of the form `local@domain`.
pub fn email(input: &str) -> Result<String, Invalid> {
    let s = input.trim().to_lowercase();
    let bad = |why: &str| Err(Invalid::new("email", why.to_owned()));
    if s.is_empty() {
        return bad("an e-mail address is required");
    }
    if s.len() > 254 {
        return bad("the e-mail address is longer than 254 characters");
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("the e-mail address contains spaces or control characters");
    }
    let mut parts = s.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None)
            if !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.') =>
        {
            Ok(s)
        }
        _ => bad("expected an address like `name@example.com`"),
    }
}

/// Free-text names (tenant names, display names, token names).
///
/// # Errors
/// When empty, longer than `max` characters, or holding control characters.
pub fn name(field: &'static str, input: &str, max: usize) -> Result<String, Invalid> {
    let s = input.trim();
    if s.is_empty() {
        return Err(Invalid::new(field, "must not be empty"));
    }
    if s.chars().count() > max {
        return Err(Invalid::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(Invalid::new(field, "must not contain control characters"));
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["acme", "acme-corp", "a1", "x9-y"] {
            assert_eq!(slug(ok).as_deref(), Ok(ok));
        }
        for bad in [
            "",
            "a",
            "-acme",
            "acme-",
            "Acme",
            "ac me",
            "acme_corp",
            "<script>",
        ] {
            let err = slug(bad).expect_err(bad);
            assert_eq!(err.field, "slug");
        }
    }

    #[test]
    fn emails_are_lower_cased() {
        assert_eq!(email(" A@Acme.Test ").as_deref(), Ok("a@acme.test"));
        for bad in [
            "",
            "a",
            "a@",
            "@b.c",
            "a@b",
            "a b@c.d",
            "a@@b.c",
            "a@b.c@d.e",
        ] {
            assert!(email(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn names() {
        assert_eq!(name("name", "  Acme Ltd ", 10).as_deref(), Ok("Acme Ltd"));
        assert!(name("name", "", 10).is_err());
        assert!(name("name", "x\u{7}y", 10).is_err());
        assert!(name("name", "abcdefghijk", 10).is_err());
    }
}
