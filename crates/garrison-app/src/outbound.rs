//! Outbound HTTP (webhooks, chat and paging services, ticketing
//! connectors), guarded against server-side request forgery.
//!
//! A customer's admin types the URLs Garrison calls, so a URL must never
//! reach what only Garrison's own network can reach: loopback, private
//! and carrier-grade NAT ranges, link-local addresses (cloud metadata at
//! 169.254.169.254), multicast, reserved and documentation ranges, and the
//! IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64,
//! 6to4). The check holds in every place an address can come from:
//!
//! - a literal host in the URL, whatever its spelling: the WHATWG URL
//!   parser (`url`, through `reqwest::Url`) reads `2130706433`,
//!   `0x7f.1`, `0177.0.0.1` and `127.1` as 127.0.0.1 before the check;
//! - a name: the client's resolver resolves it, and refuses the name when
//!   any of its addresses is forbidden; the connection then goes to the
//!   checked addresses only (no second lookup a rebinding DNS server could
//!   answer differently);
//! - a redirect: each hop is checked the same way (at most five).
//!
//! An MSSP admin may allow addresses or ranges explicitly
//! ([`OutboundPolicy::allow`]), for an on-premises ticketing server for
//! instance. Proxies from the environment are ignored. TLS is verified by
//! the client (no option turns it off).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why an address or URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("{url}: only http and https URLs are called")]
    Scheme { url: String },
    #[error("{0}: not a URL Garrison can call")]
    Url(String),
    #[error(
        "{addr} is a {kind} address: Garrison does not call it (an MSSP admin can allow it explicitly)"
    )]
    Address { addr: IpAddr, kind: &'static str },
    #[error("{name} resolves to {addr}, a {kind} address: Garrison does not call it")]
    Resolves {
        name: String,
        addr: IpAddr,
        kind: &'static str,
    },
}

/// What kind of forbidden address `ip` is, if it is one.
#[must_use]
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "this-network",
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => "private",
        (100, 64..=127, _) => "shared (carrier-grade NAT)",
        (127, _, _) => "loopback",
        (169, 254, _) => "link-local (cloud metadata)",
        (192, 0, 0) => "IETF protocol assignment",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18 | 19, _) => "benchmarking",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved",
        _ => return None,
    })
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        forbidden_v4(Ipv4Addr::new(a, b, c, d))
    };
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        // ::ffff:a.b.c.d is a.b.c.d.
        return forbidden_v4(v4).or(Some("IPv4-mapped"));
    }
    Some(match s {
        // ::a.b.c.d (deprecated IPv4-compatible).
        [0, 0, 0, 0, 0, 0, _, _] => embedded(s[6], s[7]).unwrap_or("IPv4-compatible"),
        // NAT64: the embedded address decides.
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => return embedded(s[6], s[7]),
        // 6to4: 2002:AABB:CCDD::/48 carries AA.BB.CC.DD.
        [0x2002, hi, lo, ..] => return embedded(hi, lo),
        [0x2001, 0, ..] => "Teredo",
        [0x2001, 0xdb8, ..] => "documentation",
        [x, ..] if x & 0xfe00 == 0xfc00 => "unique local (private)",
        [x, ..] if x & 0xffc0 == 0xfe80 => "link-local",
        [x, ..] if x & 0xffc0 == 0xfec0 => "site-local",
        [x, ..] if x & 0xff00 == 0xff00 => "multicast",
        _ => return None,
    })
}

/// Which addresses outbound calls may reach.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    allowed: Vec<IpNet>,
}

impl OutboundPolicy {
    /// Allows `net` although it is forbidden by default (an MSSP admin's
    /// explicit choice).
    #[must_use]
    pub fn allow(mut self, net: IpNet) -> Self {
        self.allowed.push(net);
        self
    }

    /// Checks one address.
    ///
    /// # Errors
    /// [`Refused::Address`] for a forbidden, not allowed address.
    pub fn check_ip(&self, addr: IpAddr) -> Result<(), Refused> {
        match forbidden(addr) {
            Some(kind) if !self.allowed.iter().any(|n| n.contains(&addr)) => {
                Err(Refused::Address { addr, kind })
            }
            _ => Ok(()),
        }
    }

    /// Checks a URL: http or https, and its host when it is an address.
    /// (A name is checked when the client resolves it.)
    ///
    /// # Errors
    /// A [`Refused`] naming the URL or the address.
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused::Scheme {
                url: url.to_string(),
            });
        }
        let Some(host) = url.host_str() else {
            return Err(Refused::Url(url.to_string()));
        };
        // An address (IPv6 in brackets); the WHATWG parser has already
        // turned every other IPv4 spelling into the dotted one. Names are
        // checked when the client resolves them.
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        match bare.trim_end_matches('.').parse::<IpAddr>() {
            Ok(ip) => self.check_ip(ip),
            Err(_) => Ok(()),
        }
    }

    /// Parses and checks a URL.
    ///
    /// # Errors
    /// When it does not parse or is refused.
    pub fn parse_url(&self, url: &str) -> Result<Url, Refused> {
        let parsed = Url::parse(url).map_err(|_| Refused::Url(url.to_owned()))?;
        self.check_url(&parsed)?;
        Ok(parsed)
    }
}

/// The resolver of the guarded client: the system's, then the policy.
struct GuardedResolver(Arc<OutboundPolicy>);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.0);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            for a in &addrs {
                if let Err(Refused::Address { addr, kind }) = policy.check_ip(a.ip()) {
                    return Err(Box::new(Refused::Resolves {
                        name: host,
                        addr,
                        kind,
                    })
                        as Box<dyn std::error::Error + Send + Sync>);
                }
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// An HTTP client whose every connection and redirect obeys `policy`.
/// Callers check the first URL with [`OutboundPolicy::parse_url`] (an
/// address in the URL never reaches the resolver); [`OutboundClient`]
/// does both.
///
/// # Errors
/// When the TLS stack cannot be set up.
pub fn guarded_client(policy: Arc<OutboundPolicy>) -> Result<reqwest::Client, reqwest::Error> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let redirects = Arc::clone(&policy);
    reqwest::Client::builder()
        .dns_resolver(GuardedResolver(policy))
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                return attempt.error("more than five redirects");
            }
            match redirects.check_url(attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(e) => attempt.error(e),
            }
        }))
        .no_proxy()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(15))
        .build()
}

/// A guarded client with its policy: the only way notifications and
/// connectors call out.
#[derive(Debug, Clone)]
pub struct OutboundClient {
    policy: Arc<OutboundPolicy>,
    http: reqwest::Client,
}

/// Why an outbound call failed.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error("calling {url}: {source}")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
}

impl OutboundClient {
    /// # Errors
    /// When the TLS stack cannot be set up.
    pub fn new(policy: OutboundPolicy) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(policy);
        Ok(Self {
            http: guarded_client(Arc::clone(&policy))?,
            policy,
        })
    }

    /// Sends `body` as JSON to `url` with `headers`; returns the status.
    ///
    /// # Errors
    /// A refused URL, address or redirect, or the HTTP failure.
    pub async fn post_json(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &serde_json::Value,
    ) -> Result<reqwest::StatusCode, OutboundError> {
        let parsed = self.policy.parse_url(url)?;
        let mut req = self.http.post(parsed).json(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.map_err(|source| OutboundError::Http {
            url: url.to_owned(),
            source,
        })?;
        Ok(resp.status())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A listener that counts connections and answers 200.
    async fn counting(addr: &str) -> (SocketAddr, Arc<AtomicUsize>) {
        try_counting(addr).await.expect("bind")
    }

    /// As `counting`, `None` when the address cannot be bound (a host
    /// without IPv6).
    async fn try_counting(addr: &str) -> Option<(SocketAddr, Arc<AtomicUsize>)> {
        let l = TcpListener::bind(addr).await.ok()?;
        let at = l.local_addr().expect("addr");
        let hits = Arc::new(AtomicUsize::new(0));
        let h = Arc::clone(&hits);
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                h.fetch_add(1, Ordering::SeqCst);
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            }
        });
        Some((at, hits))
    }

    /// A listener that redirects every request to `to`.
    async fn redirecting(addr: &str, to: String) -> SocketAddr {
        let l = TcpListener::bind(addr).await.expect("bind");
        let at = l.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let resp = format!(
                    "HTTP/1.1 302 Found\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = s.write_all(resp.as_bytes()).await;
            }
        });
        at
    }

    #[tokio::test]
    async fn forty_ssrf_targets_are_refused_and_nothing_is_reached() {
        let (target, hits) = counting("127.0.0.1:0").await;
        // Without IPv6 on the host the [::1] targets are still refused,
        // only not counted (port 9, discard, is closed).
        let (p6, hits6) = match try_counting("[::1]:0").await {
            Some((at, hits)) => (at.port(), hits),
            None => (9, Arc::new(AtomicUsize::new(0))),
        };
        let p = target.port();
        // An allowed address (an MSSP admin's choice) whose server
        // redirects to forbidden places.
        let allowed = OutboundPolicy::default().allow("127.0.0.2/32".parse().expect("net"));
        let mut urls: Vec<String> = [
            "http://127.0.0.1:{p}/",
            "http://127.0.0.1:{p}/hook?x=1",
            "https://127.0.0.1:{p}/",
            "http://localhost:{p}/",
            "http://LOCALHOST:{p}/",
            "http://localhost.:{p}/",
            "http://2130706433:{p}/",
            "http://0x7f000001:{p}/",
            "http://0x7f.0.0.1:{p}/",
            "http://0177.0.0.1:{p}/",
            "http://017700000001:{p}/",
            "http://127.1:{p}/",
            "http://127.0.1:{p}/",
            "http://0:{p}/",
            "http://0.0.0.0:{p}/",
            "http://[::1]:{p6}/",
            "http://[0:0:0:0:0:0:0:1]:{p6}/",
            "http://[::ffff:127.0.0.1]:{p}/",
            "http://[::ffff:7f00:1]:{p}/",
            "http://[::127.0.0.1]:{p}/",
            "http://[64:ff9b::127.0.0.1]:{p}/",
            "http://[2002:7f00:1::]:{p}/",
            "http://[::]:{p}/",
            "http://10.0.0.1:{p}/",
            "http://10.255.255.254:{p}/",
            "http://172.16.0.1:{p}/",
            "http://172.31.255.254:{p}/",
            "http://192.168.0.1:{p}/",
            "http://192.168.255.254:{p}/",
            "http://169.254.169.254/latest/meta-data/",
            "http://169.254.169.254:{p}/computeMetadata/v1/",
            "http://[::ffff:169.254.169.254]/",
            "http://[fd00:ec2::254]/latest/meta-data/",
            "http://100.64.0.1:{p}/",
            "http://[fe80::1]:{p}/",
            "http://[fc00::1]:{p}/",
            "http://224.0.0.1:{p}/",
            "http://255.255.255.255:{p}/",
            "http://198.18.0.1:{p}/",
            "http://[ff02::1]:{p}/",
            "ftp://example.org/",
            "file:///etc/passwd",
            "gopher://127.0.0.1:{p}/",
        ]
        .iter()
        .map(|u| {
            u.replace("{p}", &p.to_string())
                .replace("{p6}", &p6.to_string())
        })
        .collect();
        // Redirects from the allowed server to forbidden targets.
        for to in [
            format!("http://127.0.0.1:{p}/"),
            format!("http://localhost:{p}/"),
            format!("http://[::1]:{p6}/"),
            format!("http://2130706433:{p}/"),
            "http://169.254.169.254/".to_owned(),
        ] {
            let via = redirecting("127.0.0.2:0", to).await;
            urls.push(format!("http://{via}/"));
        }
        assert!(urls.len() >= 40, "{} targets", urls.len());
        let client = OutboundClient::new(allowed.clone()).expect("client");
        for u in &urls {
            let got = client.post_json(u, &[], &serde_json::json!({"x": 1})).await;
            assert!(got.is_err(), "{u} must be refused, got {got:?}");
        }
        assert_eq!(
            hits.load(Ordering::SeqCst),
            0,
            "the IPv4 loopback listener was reached"
        );
        assert_eq!(
            hits6.load(Ordering::SeqCst),
            0,
            "the IPv6 loopback listener was reached"
        );

        // The checks are not simply refusing everything: an allowed
        // address is reached, and allowing it explicitly is what opens it.
        let (open, open_hits) = counting("127.0.0.2:0").await;
        let ok = client
            .post_json(&format!("http://{open}/"), &[], &serde_json::json!({}))
            .await
            .expect("allowed");
        assert_eq!(ok, reqwest::StatusCode::OK);
        assert_eq!(open_hits.load(Ordering::SeqCst), 1);
        let strict = OutboundClient::new(OutboundPolicy::default()).expect("client");
        assert!(
            strict
                .post_json(&format!("http://{open}/"), &[], &serde_json::json!({}))
                .await
                .is_err()
        );
        assert_eq!(open_hits.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn refusals_name_the_address_and_its_kind() {
        let p = OutboundPolicy::default();
        let e = p.parse_url("http://0177.0.0.1/").expect_err("loopback");
        assert_eq!(
            e.to_string(),
            "127.0.0.1 is a loopback address: Garrison does not call it (an MSSP admin can allow it explicitly)"
        );
        assert!(matches!(
            p.parse_url("http://[::ffff:10.1.2.3]/"),
            Err(Refused::Address {
                kind: "private",
                ..
            })
        ));
        for public in [
            "https://hooks.slack.com/services/x",
            "https://93.184.216.34/",
            "http://[2606:4700::1111]/",
        ] {
            assert!(p.parse_url(public).is_ok(), "{public}");
        }
        assert_eq!(forbidden("8.8.8.8".parse().expect("ip")), None);
        assert_eq!(
            forbidden(
                "[64:ff9b::8.8.8.8]"
                    .trim_matches(['[', ']'])
                    .parse()
                    .expect("ip")
            ),
            None
        );
    }
}
