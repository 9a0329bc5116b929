//! `TRUSTED_PROXIES`: the addresses (single IPs or CIDR ranges) of proxies whose
//! `X-Forwarded-For` header is believed. Anyone else could write any address there.

use std::net::IpAddr;

/// An IP network: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    net: IpAddr,
    prefix: u8,
}

impl IpRange {
    /// Parses `192.0.2.1`, `10.0.0.0/8` or `fd00::/8`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let net: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or CIDR range"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?} has a bad prefix length"))?,
        };
        Ok(Self { net, prefix })
    }

    /// True when `ip` lies in this range (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// Parses a comma-separated list; empty means no proxy is trusted.
pub fn parse_list(s: &str) -> Result<Vec<IpRange>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(IpRange::parse)
        .collect()
}

/// The bucket per-address limits count `ip` (as `client_ip` renders it) in: an IPv4 address
/// alone, an IPv6 address by its /64, since one subscriber usually holds a whole /64 and
/// could otherwise step to a fresh address for every attempt. Anything unparsable (`unknown`)
/// is its own bucket.
pub fn address_bucket(ip: &str) -> String {
    match ip.parse::<IpAddr>().map(|a| a.to_canonical()) {
        Ok(IpAddr::V6(a)) => {
            let net = std::net::Ipv6Addr::from(u128::from(a) & (u128::MAX << 64));
            format!("{net}/64")
        }
        Ok(IpAddr::V4(a)) => a.to_string(),
        Err(_) => ip.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_of_one_slash_64_share_a_bucket_and_ipv4_addresses_do_not() {
        assert_eq!(address_bucket("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(
            address_bucket("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            address_bucket("2001:db8:1:2::1")
        );
        assert_ne!(
            address_bucket("2001:db8:1:3::1"),
            address_bucket("2001:db8:1:2::1")
        );
        assert_eq!(address_bucket("192.0.2.7"), "192.0.2.7");
        assert_ne!(address_bucket("192.0.2.8"), address_bucket("192.0.2.7"));
        assert_eq!(address_bucket("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(address_bucket("unknown"), "unknown");
    }

    #[test]
    fn single_addresses_and_ranges_match_what_they_cover() {
        let list = parse_list("10.0.0.0/8, 192.0.2.7,fd00::/8").unwrap();
        let has = |s: &str| list.iter().any(|r| r.contains(s.parse().unwrap()));
        assert!(has("10.1.2.3"));
        assert!(has("::ffff:10.1.2.3"));
        assert!(has("192.0.2.7"));
        assert!(!has("192.0.2.8"));
        assert!(has("fd12::1"));
        assert!(!has("11.0.0.1"));
        assert!(parse_list("").unwrap().is_empty());
        assert!(parse_list("10.0.0.0/33").is_err());
        assert!(parse_list("proxy.local").is_err());
    }
}
