//! The client's address: the TCP peer, or — only when the peer is one of `trusted_proxies` —
//! the rightmost hop of `Forwarded` (RFC 7239) or else `X-Forwarded-For` that is not itself a
//! trusted proxy. Headers from any other peer are ignored: anyone can write them.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::state::AppState;

/// The client's address as the rate limits and the audit log see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        // The listener inserts the peer on every request; without it (a router driven in
        // memory) the unspecified address stands for "unknown".
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(peer)| peer.ip());
        Ok(ClientIp(client_ip(peer, &parts.headers, &state.config.trusted_proxies)))
    }
}

/// Walks the forwarding chain from the nearest hop outwards while the hop that told us is a
/// trusted proxy (RFC 7239 §7.4: only a proxy's own addition can be believed).
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(&canonical(*ip)));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops = forwarded_hops(headers);
    let mut current = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) if is_trusted(&current) => current = *ip,
            // An unknown or obfuscated hop (RFC 7239 §6): the chain cannot be followed past it.
            _ => break,
        }
    }
    current
}

/// IPv4-mapped IPv6 peers (dual-stack sockets) compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// The hops, client first: from `Forwarded` if present (the standard), else
/// `X-Forwarded-For`. A hop that is not an address is `None`.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = headers.get_all("forwarded").iter().filter_map(|v| v.to_str().ok()).collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|line| line.split(','))
            .map(|element| {
                // RFC 7239 §4: `for=` among `;`-separated pairs; names are case-insensitive.
                element.split(';').find_map(|pair| {
                    let (name, value) = pair.trim().split_once('=')?;
                    name.trim().eq_ignore_ascii_case("for").then(|| node_address(value.trim()))?
                })
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|line| line.split(','))
        .map(|hop| node_address(hop.trim()))
        .collect()
}

/// RFC 7239 §6 node: `192.0.2.43`, `"192.0.2.43:47011"`, `"[2001:db8::1]:4711"`, `"[2001:db8::1]"`.
fn node_address(value: &str) -> Option<IpAddr> {
    let value = value.trim_matches('"');
    if let Ok(ip) = value.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = value.strip_prefix('[') {
        let (inside, _) = rest.split_once(']')?;
        return inside.parse().ok();
    }
    value.parse::<SocketAddr>().ok().map(|s| s.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let h = headers(&[("x-forwarded-for", "203.0.113.5"), ("forwarded", "for=203.0.113.6")]);
        assert_eq!(client_ip(ip("192.0.2.1"), &h, &[]), ip("192.0.2.1"));
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        assert_eq!(client_ip(ip("192.0.2.1"), &h, &trusted), ip("192.0.2.1"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // The client forged the first entry; the proxies appended the rest.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.5, 10.0.0.2")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("203.0.113.5"));
        let h = headers(&[("x-forwarded-for", "1.2.3.4"), ("x-forwarded-for", "203.0.113.5")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("203.0.113.5"), "several lines form one list");
        let h = headers(&[("x-forwarded-for", "10.0.0.3, 10.0.0.2")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("10.0.0.3"), "all trusted: the farthest");
    }

    #[test]
    fn forwarded_wins_and_its_node_forms_parse() {
        let trusted: Vec<IpNet> = vec!["10.0.0.1/32".parse().unwrap()];
        let h = headers(&[
            ("forwarded", r#"for=192.0.2.60;proto=http, For="[2001:db8:cafe::17]:4711""#),
            ("x-forwarded-for", "198.51.100.1"),
        ]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("2001:db8:cafe::17"));
        let h = headers(&[("forwarded", r#"for="192.0.2.43:47011""#)]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("192.0.2.43"));
        let h = headers(&[("forwarded", "for=192.0.2.43, for=_hidden")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("10.0.0.1"), "an obfuscated hop stops the walk");
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(client_ip(ip("::ffff:10.0.0.1"), &h, &trusted), ip("::ffff:10.0.0.1"));
    }
}
