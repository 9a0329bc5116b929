//! The SSRF guard: a webhook destination is resolved when it is sent to, and every address
//! it resolves to must be public (or inside `WEBHOOK_ALLOWED_CIDRS`). The check sits in the
//! HTTP client's resolver, so the address connected to is the address checked.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// An IP range such as `127.0.0.0/8` or `fd00::/8`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `ADDR/PREFIX` (a bare address is a single host).
    pub fn parse(s: &str) -> Result<Self, String> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| "expected CIDR ranges such as 127.0.0.0/8".to_string())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("prefix length must be 0-{max}"))?,
            None => max,
        };
        Ok(Self { addr, prefix })
    }

    /// True when `ip` lies in the range.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

const BLOCKED_V4: &[(Ipv4Addr, u8)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8),      // "this network"
    (Ipv4Addr::new(10, 0, 0, 0), 8),     // private
    (Ipv4Addr::new(100, 64, 0, 0), 10),  // carrier-grade NAT
    (Ipv4Addr::new(127, 0, 0, 0), 8),    // loopback
    (Ipv4Addr::new(169, 254, 0, 0), 16), // link-local, cloud metadata 169.254.169.254
    (Ipv4Addr::new(172, 16, 0, 0), 12),  // private
    (Ipv4Addr::new(192, 0, 0, 0), 24),   // IETF protocol assignments
    (Ipv4Addr::new(192, 168, 0, 0), 16), // private
    (Ipv4Addr::new(198, 18, 0, 0), 15),  // benchmarking
    (Ipv4Addr::new(224, 0, 0, 0), 4),    // multicast
    (Ipv4Addr::new(240, 0, 0, 0), 4),    // reserved, broadcast
];

const BLOCKED_V6: &[(Ipv6Addr, u8)] = &[
    (Ipv6Addr::UNSPECIFIED, 128),
    (Ipv6Addr::LOCALHOST, 128),
    (Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96), // NAT64 of any IPv4
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7),     // unique local (incl. fd00:ec2::254)
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10),    // link-local
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8),     // multicast
];

/// True for loopback, private, link-local, metadata and other non-public addresses.
pub fn is_internal(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => BLOCKED_V4.iter().any(|(net, p)| {
            Cidr {
                addr: IpAddr::V4(*net),
                prefix: *p,
            }
            .contains(IpAddr::V4(v4))
        }),
        IpAddr::V6(v6) => BLOCKED_V6.iter().any(|(net, p)| {
            Cidr {
                addr: IpAddr::V6(*net),
                prefix: *p,
            }
            .contains(IpAddr::V6(v6))
        }),
    }
}

/// `Ok` when a webhook may be sent to `ip` under the allow-list.
pub fn check(ip: IpAddr, allowed: &[Cidr]) -> Result<(), String> {
    if is_internal(ip) && !allowed.iter().any(|c| c.contains(ip)) {
        return Err(format!(
            "destination address {ip} is loopback, private or link-local; refused (see WEBHOOK_ALLOWED_CIDRS)"
        ));
    }
    Ok(())
}

/// A resolver for the HTTP client that refuses a name when any of its addresses is refused.
#[derive(Clone)]
pub struct GuardedResolver {
    /// The allow-list.
    pub allowed: Arc<Vec<Cidr>>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allowed = self.allowed.clone();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(format!("{} does not resolve", name.as_str()).into());
            }
            for a in &addrs {
                check(a.ip(), &allowed)?;
            }
            let it: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(it)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn internal_addresses_are_refused_unless_allowed() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.20.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
        ] {
            assert!(check(ip(bad), &[]).is_err(), "{bad}");
        }
        for good in ["93.184.216.34", "2606:2800:220:1::1", "172.32.0.1"] {
            assert!(check(ip(good), &[]).is_ok(), "{good}");
        }
        let allow = [Cidr::parse("127.0.0.0/8").unwrap()];
        assert!(check(ip("127.0.0.1"), &allow).is_ok());
        assert!(check(ip("::ffff:127.0.0.1"), &allow).is_ok());
        assert!(check(ip("10.0.0.1"), &allow).is_err());
    }

    #[test]
    fn cidr_parsing_checks_the_prefix() {
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("nope/8").is_err());
        assert!(Cidr::parse("::/0").unwrap().contains(ip("::1")));
        assert!(Cidr::parse("10.0.0.5").unwrap().contains(ip("10.0.0.5")));
        assert!(!Cidr::parse("10.0.0.5").unwrap().contains(ip("10.0.0.6")));
    }
}
