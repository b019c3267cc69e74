//! Login throttling that slows a guesser without locking out the real user.
//!
//! Failures are counted in sliding windows under three keys:
//! - the source address (any account): stops one machine guessing widely;
//! - the account *from that address*: stops one machine guessing deeply,
//!   without affecting the real user elsewhere;
//! - the account from anywhere, but only for clients without a device
//!   cookie proving an earlier successful login to that account: a botnet
//!   spread over many addresses is slowed, and the real user, on a device
//!   they have used before, still gets in.
//!
//! MFA codes are counted per user.
//!
//! Counters live in memory, per process. Behind a load balancer each web
//! node counts on its own, which multiplies the limits by the node count;
//! see ARCHITECTURE.md.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use garrison_core::{Timestamp, UserId};

#[derive(Debug, Clone)]
pub struct ThrottleSettings {
    pub per_ip: Limit,
    pub per_account_and_ip: Limit,
    pub per_account: Limit,
    pub per_mfa_user: Limit,
}

/// At most `failures` within `window`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub failures: u32,
    pub window: Duration,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            per_ip: Limit {
                failures: 10,
                window: Duration::from_secs(60),
            },
            per_account_and_ip: Limit {
                failures: 5,
                window: Duration::from_secs(15 * 60),
            },
            per_account: Limit {
                failures: 50,
                window: Duration::from_secs(60 * 60),
            },
            per_mfa_user: Limit {
                failures: 10,
                window: Duration::from_secs(15 * 60),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Ip(IpAddr),
    AccountIp(String, IpAddr),
    Account(String),
    Mfa(UserId),
}

/// Entries beyond this are pruned of expired windows; a flood of distinct
/// keys cannot grow memory without bound.
const MAX_KEYS: usize = 100_000;

#[derive(Debug)]
pub struct LoginThrottle {
    settings: ThrottleSettings,
    failures: Mutex<HashMap<Key, VecDeque<Timestamp>>>,
}

/// The outcome of a check: allowed, or wait this long.
pub type Verdict = Result<(), Duration>;

impl LoginThrottle {
    #[must_use]
    pub fn new(settings: ThrottleSettings) -> Self {
        Self {
            settings,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn limit(&self, key: &Key) -> Limit {
        match key {
            Key::Ip(_) => self.settings.per_ip,
            Key::AccountIp(..) => self.settings.per_account_and_ip,
            Key::Account(_) => self.settings.per_account,
            Key::Mfa(_) => self.settings.per_mfa_user,
        }
    }

    fn check_keys(&self, now: Timestamp, keys: &[Key]) -> Verdict {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut wait = Duration::ZERO;
        for key in keys {
            let limit = self.limit(key);
            if let Some(times) = map.get_mut(key) {
                let start = now.minus(limit.window);
                while times.front().is_some_and(|t| *t <= start) {
                    times.pop_front();
                }
                if times.len() >= limit.failures as usize {
                    // Free again when the oldest failure in the window ages out.
                    let oldest = times.front().copied().unwrap_or(now);
                    wait = wait.max(oldest.plus(limit.window).since(now));
                }
            }
        }
        if wait.is_zero() {
            Ok(())
        } else {
            Err(wait.max(Duration::from_secs(1)))
        }
    }

    fn record(&self, now: Timestamp, keys: Vec<Key>) {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= MAX_KEYS {
            let longest = self
                .settings
                .per_account
                .window
                .max(self.settings.per_account_and_ip.window);
            let cutoff = now.minus(longest);
            map.retain(|_, times| times.back().is_some_and(|t| *t > cutoff));
        }
        for key in keys {
            if map.len() < MAX_KEYS || map.contains_key(&key) {
                let times = map.entry(key).or_default();
                times.push_back(now);
                // A list never needs more than the limit plus one.
                while times.len() > 1000 {
                    times.pop_front();
                }
            }
        }
    }

    fn login_keys(ip: IpAddr, account: &str, trusted_device: bool) -> Vec<Key> {
        let mut keys = vec![Key::Ip(ip), Key::AccountIp(account.to_owned(), ip)];
        if !trusted_device {
            keys.push(Key::Account(account.to_owned()));
        }
        keys
    }

    /// May this client try a password for `account` now?
    pub fn check_login(
        &self,
        now: Timestamp,
        ip: IpAddr,
        account: &str,
        trusted_device: bool,
    ) -> Verdict {
        self.check_keys(now, &Self::login_keys(ip, account, trusted_device))
    }

    pub fn login_failed(&self, now: Timestamp, ip: IpAddr, account: &str) {
        // A failure always counts against the account as a whole, whoever
        // made it; only the check is waived for trusted devices.
        self.record(now, Self::login_keys(ip, account, false));
    }

    /// A correct password clears the failures of this account from this
    /// address (the user has proven themselves there).
    pub fn login_succeeded(&self, ip: IpAddr, account: &str) {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.remove(&Key::AccountIp(account.to_owned(), ip));
    }

    pub fn check_mfa(&self, now: Timestamp, user: UserId) -> Verdict {
        self.check_keys(now, &[Key::Mfa(user)])
    }

    pub fn mfa_failed(&self, now: Timestamp, user: UserId) {
        self.record(now, vec![Key::Mfa(user)]);
    }

    pub fn mfa_succeeded(&self, user: UserId) {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.remove(&Key::Mfa(user));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_millis(secs * 1000)
    }

    #[test]
    fn one_address_is_slowed_after_ten_failures_a_minute() {
        let t = LoginThrottle::new(ThrottleSettings::default());
        let attacker = ip("198.51.100.9");
        for i in 0..10 {
            assert!(
                t.check_login(at(i), attacker, &format!("u{i}@x.test"), false)
                    .is_ok()
            );
            t.login_failed(at(i), attacker, &format!("u{i}@x.test"));
        }
        let wait = t
            .check_login(at(10), attacker, "new@x.test", false)
            .expect_err("blocked");
        assert_eq!(
            wait,
            Duration::from_secs(50),
            "until the first failure is a minute old"
        );
        assert!(t.check_login(at(61), attacker, "new@x.test", false).is_ok());
    }

    #[test]
    fn the_real_user_elsewhere_is_not_locked_out() {
        let t = LoginThrottle::new(ThrottleSettings::default());
        let attacker = ip("198.51.100.9");
        for i in 0..20 {
            let _ = t.check_login(at(i), attacker, "victim@x.test", false);
            t.login_failed(at(i), attacker, "victim@x.test");
        }
        assert!(
            t.check_login(at(21), attacker, "victim@x.test", false)
                .is_err()
        );
        assert!(
            t.check_login(at(21), ip("203.0.113.5"), "victim@x.test", false)
                .is_ok()
        );
    }

    #[test]
    fn a_distributed_attack_slows_only_untrusted_clients() {
        let t = LoginThrottle::new(ThrottleSettings::default());
        for i in 0..50 {
            t.login_failed(
                at(i),
                ip(&format!("10.0.{}.{}", i / 250, i % 250 + 1)),
                "victim@x.test",
            );
        }
        let home = ip("203.0.113.5");
        assert!(t.check_login(at(60), home, "victim@x.test", false).is_err());
        assert!(
            t.check_login(at(60), home, "victim@x.test", true).is_ok(),
            "device cookie"
        );
    }

    #[test]
    fn success_clears_the_pair_counter() {
        let t = LoginThrottle::new(ThrottleSettings::default());
        let me = ip("203.0.113.5");
        for i in 0..5 {
            t.login_failed(at(i), me, "me@x.test");
        }
        assert!(t.check_login(at(6), me, "me@x.test", false).is_err());
        t.login_succeeded(me, "me@x.test");
        assert!(t.check_login(at(6), me, "me@x.test", false).is_ok());
    }

    #[test]
    fn mfa_failures_are_counted_per_user() {
        let t = LoginThrottle::new(ThrottleSettings::default());
        let u = UserId::new();
        for i in 0..10 {
            t.mfa_failed(at(i), u);
        }
        assert!(t.check_mfa(at(11), u).is_err());
        assert!(t.check_mfa(at(11), UserId::new()).is_ok());
        t.mfa_succeeded(u);
        assert!(t.check_mfa(at(11), u).is_ok());
    }
}
