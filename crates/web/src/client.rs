//! Who is asking: the client's address, from the connection, or from `X-Forwarded-For`
//! when (and only when) the connection comes from a proxy the configuration trusts. A
//! header from anyone else is ignored, so it cannot be used to dodge the per-address
//! limits or to lock a neighbour out.

use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};

/// An address or a network (`10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for Net {
    type Err = String;

    fn from_str(s: &str) -> Result<Net, String> {
        let s = s.trim();
        let (a, p) = s.split_once('/').unwrap_or((s, ""));
        let addr: IpAddr = a.parse().map_err(|_| format!("`{s}` is not an address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = if p.is_empty() {
            max
        } else {
            p.parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{s}`: the prefix must be 0–{max}"))?
        };
        Ok(Net { addr, prefix })
    }
}

impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let max = if self.addr.is_ipv4() { 32 } else { 128 };
        if self.prefix == max {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

impl Net {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |ip: IpAddr| -> Option<u128> {
            match (self.addr, ip) {
                (IpAddr::V4(_), IpAddr::V4(v)) => Some(u128::from(u32::from(v)) << 96),
                (IpAddr::V6(_), IpAddr::V6(v)) => Some(u128::from(v)),
                _ => None,
            }
        };
        let (Some(net), Some(ip)) = (bits(self.addr), bits(ip)) else {
            return false;
        };
        let mask = if self.prefix == 0 {
            0
        } else {
            let width = if self.addr.is_ipv4() { 32 } else { 128 };
            u128::MAX << (128 - u32::from(self.prefix)) >> (128 - width) << (128 - width)
        };
        net & mask == ip & mask
    }
}

/// The client's address, as worked out for this request.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

/// The client of a connection from `peer`: the peer itself, unless it is a trusted proxy;
/// then the nearest address in `X-Forwarded-For` that is not one (the right-most
/// untrusted hop, which no client can forge).
pub fn resolve(peer: Option<IpAddr>, forwarded: Option<&str>, trusted: &[Net]) -> Option<IpAddr> {
    let trusted_ip = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    let peer = peer?;
    if !trusted_ip(peer) {
        return Some(peer);
    }
    let hops: Vec<IpAddr> = forwarded
        .unwrap_or("")
        .split(',')
        .filter_map(|h| h.trim().parse().ok())
        .collect();
    Some(
        hops.iter()
            .rev()
            .copied()
            .find(|h| !trusted_ip(*h))
            .unwrap_or(peer),
    )
}

/// Middleware: stores the [`ClientIp`] in the request for the handlers.
pub async fn identify(
    axum::extract::State(trusted): axum::extract::State<std::sync::Arc<Vec<Net>>>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    let ip = resolve(peer, forwarded, &trusted);
    req.extensions_mut().insert(ClientIp(ip));
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_contain_their_addresses() {
        let n: Net = "10.0.0.0/8".parse().unwrap();
        assert!(n.contains(ip("10.1.2.3")) && !n.contains(ip("11.0.0.1")));
        let one: Net = "192.168.1.7".parse().unwrap();
        assert!(one.contains(ip("192.168.1.7")) && !one.contains(ip("192.168.1.8")));
        let v6: Net = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("10.0.0.1")));
        let all: Net = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("8.8.8.8")));
        assert!("10.0.0.0/33".parse::<Net>().is_err());
        assert!("ten".parse::<Net>().is_err());
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<Net> = vec!["10.0.0.0/8".parse().unwrap()];
        let xff = Some("1.2.3.4, 5.6.7.8, 10.0.0.2");
        // From the proxy: the nearest untrusted hop.
        assert_eq!(
            resolve(Some(ip("10.0.0.1")), xff, &trusted),
            Some(ip("5.6.7.8"))
        );
        // From anyone else: the header is ignored.
        assert_eq!(
            resolve(Some(ip("9.9.9.9")), xff, &trusted),
            Some(ip("9.9.9.9"))
        );
        // No trusted proxies configured: never believed.
        assert_eq!(
            resolve(Some(ip("10.0.0.1")), xff, &[]),
            Some(ip("10.0.0.1"))
        );
        // A proxy without the header is its own client.
        assert_eq!(
            resolve(Some(ip("10.0.0.1")), None, &trusted),
            Some(ip("10.0.0.1"))
        );
    }
}
