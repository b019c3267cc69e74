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

/// The address a client is counted under: IPv6 clients by their /64 (one
/// subscriber usually holds a whole /64), IPv4-mapped IPv6 as IPv4.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(prefix.into())
            }
        },
    }
}

/// Failure times by key, bounded: when full, expired entries go first, then
/// the entries whose last failure is oldest. A flood of new keys therefore
/// pushes out old, quiet entries, never the ones under attack now.
#[derive(Debug, Default)]
struct Counters {
    map: HashMap<Key, VecDeque<Timestamp>>,
}

/// Keys per table before eviction starts.
const MAX_KEYS: usize = 100_000;

impl Counters {
    fn wait(&mut self, now: Timestamp, key: &Key, limit: Limit) -> Duration {
        let Some(times) = self.map.get_mut(key) else {
            return Duration::ZERO;
        };
        let start = now.minus(limit.window);
        while times.front().is_some_and(|t| *t <= start) {
            times.pop_front();
        }
        if times.len() >= limit.failures as usize {
            // Free again when the oldest failure in the window ages out.
            let oldest = times.front().copied().unwrap_or(now);
            oldest.plus(limit.window).since(now)
        } else {
            Duration::ZERO
        }
    }

    fn record(&mut self, now: Timestamp, key: Key, longest_window: Duration) {
        if self.map.len() >= MAX_KEYS && !self.map.contains_key(&key) {
            let cutoff = now.minus(longest_window);
            self.map
                .retain(|_, times| times.back().is_some_and(|t| *t > cutoff));
            if self.map.len() >= MAX_KEYS {
                let mut last: Vec<Timestamp> = self
                    .map
                    .values()
                    .filter_map(|t| t.back().copied())
                    .collect();
                let tenth = last.len() / 10;
                let (_, threshold, _) = last.select_nth_unstable(tenth);
                let threshold = *threshold;
                self.map
                    .retain(|_, times| times.back().is_some_and(|t| *t > threshold));
            }
        }
        let times = self.map.entry(key).or_default();
        times.push_back(now);
        // No limit needs more than a few hundred entries.
        while times.len() > 1000 {
            times.pop_front();
        }
    }
}

#[derive(Debug)]
pub struct LoginThrottle {
    settings: ThrottleSettings,
    /// Password failures. MFA failures are kept apart, so that a flood of
    /// password failures can never push them out.
    logins: Mutex<Counters>,
    mfa: Mutex<Counters>,
}

/// The outcome of a check: allowed, or wait this long.
pub type Verdict = Result<(), Duration>;

fn lock(m: &Mutex<Counters>) -> std::sync::MutexGuard<'_, Counters> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl LoginThrottle {
    #[must_use]
    pub fn new(settings: ThrottleSettings) -> Self {
        Self {
            settings,
            logins: Mutex::new(Counters::default()),
            mfa: Mutex::new(Counters::default()),
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

    fn longest_window(&self) -> Duration {
        [
            self.settings.per_ip,
            self.settings.per_account_and_ip,
            self.settings.per_account,
            self.settings.per_mfa_user,
        ]
        .iter()
        .map(|l| l.window)
        .max()
        .unwrap_or_default()
    }

    fn check_keys(&self, now: Timestamp, counters: &Mutex<Counters>, keys: &[Key]) -> Verdict {
        let mut c = lock(counters);
        let wait = keys
            .iter()
            .map(|k| c.wait(now, k, self.limit(k)))
            .max()
            .unwrap_or_default();
        if wait.is_zero() {
            Ok(())
        } else {
            Err(wait.max(Duration::from_secs(1)))
        }
    }

    /// May this client try a password for `account` now? A browser with a
    /// device cookie for the account (it signed in before) is held only to
    /// the limit of its account from its address: neither a flood from its
    /// office's shared address nor a botnet against the account locks it out.
    pub fn check_login(
        &self,
        now: Timestamp,
        ip: IpAddr,
        account: &str,
        trusted_device: bool,
    ) -> Verdict {
        let ip = client_key(ip);
        let mut keys = vec![Key::AccountIp(account.to_owned(), ip)];
        if !trusted_device {
            keys.push(Key::Ip(ip));
            keys.push(Key::Account(account.to_owned()));
        }
        self.check_keys(now, &self.logins, &keys)
    }

    /// Counts a failure under every key, whoever made it.
    pub fn login_failed(&self, now: Timestamp, ip: IpAddr, account: &str) {
        let ip = client_key(ip);
        let longest = self.longest_window();
        let mut c = lock(&self.logins);
        for key in [
            Key::Ip(ip),
            Key::AccountIp(account.to_owned(), ip),
            Key::Account(account.to_owned()),
        ] {
            c.record(now, key, longest);
        }
    }

    /// A correct password clears the failures of this account from this
    /// address (the user has proven themselves there).
    pub fn login_succeeded(&self, ip: IpAddr, account: &str) {
        lock(&self.logins)
            .map
            .remove(&Key::AccountIp(account.to_owned(), client_key(ip)));
    }

    pub fn check_mfa(&self, now: Timestamp, user: UserId) -> Verdict {
        self.check_keys(now, &self.mfa, &[Key::Mfa(user)])
    }

    pub fn mfa_failed(&self, now: Timestamp, user: UserId) {
        let longest = self.longest_window();
        lock(&self.mfa).record(now, Key::Mfa(user), longest);
    }

    pub fn mfa_succeeded(&self, user: UserId) {
        lock(&self.mfa).map.remove(&Key::Mfa(user));
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
    fn a_trusted_device_is_not_locked_out_by_its_shared_address() {
        let t = LoginThrottle::new(ThrottleSettings::default());
        let office = ip("203.0.113.5");
        for i in 0..12 {
            t.login_failed(at(i), office, &format!("someone{i}@x.test"));
        }
        assert!(t.check_login(at(13), office, "me@x.test", false).is_err());
        assert!(t.check_login(at(13), office, "me@x.test", true).is_ok());
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_slash_64() {
        let t = LoginThrottle::new(ThrottleSettings::default());
        for i in 0..10 {
            t.login_failed(
                at(i),
                ip(&format!("2001:db8:1:2::{i:x}")),
                &format!("u{i}@x.test"),
            );
        }
        assert!(
            t.check_login(at(11), ip("2001:db8:1:2:ffff::1"), "new@x.test", false)
                .is_err()
        );
        assert!(
            t.check_login(at(11), ip("2001:db8:1:3::1"), "new@x.test", false)
                .is_ok()
        );
        assert_eq!(client_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
    }

    #[test]
    fn a_full_table_keeps_the_keys_under_attack() {
        let t = LoginThrottle::new(ThrottleSettings::default());
        let attacker = ip("198.51.100.7");
        for i in 0..10 {
            t.login_failed(at(1000 + i), attacker, "victim@x.test");
        }
        // A flood of distinct, older keys fills the table ...
        {
            let mut c = lock(&t.logins);
            for i in 0..MAX_KEYS {
                c.map.insert(
                    Key::Account(format!("filler{i}")),
                    VecDeque::from([at(999)]),
                );
            }
        }
        // ... and one more failure from somewhere new evicts the old ones,
        // not the attacker's.
        t.login_failed(at(1011), ip("192.0.2.200"), "another@x.test");
        assert!(lock(&t.logins).map.len() < MAX_KEYS);
        assert!(
            t.check_login(at(1012), attacker, "other@x.test", false)
                .is_err()
        );
        // MFA counters live apart and are untouched by login floods.
        let u = UserId::new();
        for i in 0..10 {
            t.mfa_failed(at(1000 + i), u);
        }
        assert!(t.check_mfa(at(1012), u).is_err());
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
