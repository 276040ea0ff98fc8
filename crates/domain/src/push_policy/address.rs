//! What kind of address an IP address is, for push delivery: an endpoint that
//! resolves to the hub's own machine, a private network, a cloud metadata
//! service or a multicast group must not receive children's data however its
//! URL was spelled. IPv6 forms that carry an IPv4 address (mapped, compatible,
//! NAT64, 6to4) are classified by the address they carry.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The kinds of address push delivery tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressClass {
    /// Reachable on the internet: admitted.
    Public,
    /// The hub's own machine: 127.0.0.0/8, ::1.
    Loopback,
    /// A private network: RFC 1918 (10/8, 172.16/12, 192.168/16), IPv6 unique
    /// local (fc00::/7) and the deprecated site-local (fec0::/10).
    Private,
    /// Link-local: 169.254.0.0/16 (where cloud metadata services answer), fe80::/10.
    LinkLocal,
    /// Shared address space of carrier-grade NAT: 100.64.0.0/10.
    SharedCgnat,
    /// Multicast: 224.0.0.0/4, ff00::/8.
    Multicast,
    /// The limited broadcast address 255.255.255.255.
    Broadcast,
    /// "This host": 0.0.0.0/8 (a connect to 0.0.0.0 reaches the local machine) and ::.
    Unspecified,
    /// Reserved, documentation and benchmarking ranges: 240.0.0.0/4,
    /// 192.0.0.0/24, 192.0.2.0/24, 198.18.0.0/15, 198.51.100.0/24,
    /// 203.0.113.0/24, 2001:db8::/32, 100::/64.
    Reserved,
}

impl std::fmt::Display for AddressClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Public => "public",
            Self::Loopback => "loopback",
            Self::Private => "private",
            Self::LinkLocal => "link-local",
            Self::SharedCgnat => "shared (CGNAT)",
            Self::Multicast => "multicast",
            Self::Broadcast => "broadcast",
            Self::Unspecified => "unspecified",
            Self::Reserved => "reserved",
        })
    }
}

/// The class of `address`.
pub fn classify(address: IpAddr) -> AddressClass {
    match address {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(address: Ipv4Addr) -> AddressClass {
    let [a, b, c, _] = address.octets();
    match (a, b, c) {
        _ if address.is_broadcast() => AddressClass::Broadcast,
        (0, _, _) => AddressClass::Unspecified,
        (127, _, _) => AddressClass::Loopback,
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => AddressClass::Private,
        (169, 254, _) => AddressClass::LinkLocal,
        (100, 64..=127, _) => AddressClass::SharedCgnat,
        (224..=239, _, _) => AddressClass::Multicast,
        (240..=255, _, _) | (192, 0, 0) | (192, 0, 2) | (198, 18..=19, _) | (198, 51, 100) | (203, 0, 113) => {
            AddressClass::Reserved
        }
        _ => AddressClass::Public,
    }
}

fn classify_v6(address: Ipv6Addr) -> AddressClass {
    if let Some(carried) = carried_v4(address) {
        return classify_v4(carried);
    }
    let segments = address.segments();
    match segments {
        _ if address.is_unspecified() => AddressClass::Unspecified,
        _ if address.is_loopback() => AddressClass::Loopback,
        [first, ..] if first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfec0 => AddressClass::Private,
        [first, ..] if first & 0xffc0 == 0xfe80 => AddressClass::LinkLocal,
        [first, ..] if first & 0xff00 == 0xff00 => AddressClass::Multicast,
        [0x2001, 0x0db8, ..] | [0x0100, 0, 0, 0, ..] => AddressClass::Reserved,
        _ => AddressClass::Public,
    }
}

/// The IPv4 address an IPv6 address carries and that a connection to it
/// would reach: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d, but not ::
/// or ::1), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::).
fn carried_v4(address: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = address.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, ..] => Some(low),
        [0, 0, 0, 0, 0, 0, 0, 0 | 1] => None,
        [0, 0, 0, 0, 0, 0, ..] => Some(low),
        [0x64, 0xff9b, 0, 0, 0, 0, ..] => Some(low),
        [0x2002, high, next, ..] => Some(Ipv4Addr::new((high >> 8) as u8, high as u8, (next >> 8) as u8, next as u8)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use AddressClass::*;

    fn class(text: &str) -> AddressClass {
        classify(text.parse().expect("an address"))
    }

    /// Every class, with its edges, in both families.
    #[test]
    fn every_class_in_both_families() {
        let cases = [
            ("1.1.1.1", Public),
            ("9.255.255.255", Public),
            ("11.0.0.0", Public),
            ("172.15.255.255", Public),
            ("172.32.0.0", Public),
            ("100.63.255.255", Public),
            ("100.128.0.0", Public),
            ("223.255.255.255", Public),
            ("127.0.0.1", Loopback),
            ("127.255.255.254", Loopback),
            ("10.0.0.5", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("169.254.169.254", LinkLocal),
            ("100.64.0.1", SharedCgnat),
            ("100.127.255.255", SharedCgnat),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("255.255.255.255", Broadcast),
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("240.0.0.1", Reserved),
            ("192.0.0.8", Reserved),
            ("192.0.2.1", Reserved),
            ("198.18.0.1", Reserved),
            ("198.19.255.255", Reserved),
            ("198.51.100.7", Reserved),
            ("203.0.113.9", Reserved),
            ("2606:4700::1111", Public),
            ("2001:4860:4860::8888", Public),
            ("::1", Loopback),
            ("fc00::1", Private),
            ("fd12:3456::1", Private),
            ("fec0::1", Private),
            ("fe80::1", LinkLocal),
            ("febf::1", LinkLocal),
            ("ff02::1", Multicast),
            ("::", Unspecified),
            ("2001:db8::1", Reserved),
            ("100::1", Reserved),
        ];
        for (address, expected) in cases {
            assert_eq!(class(address), expected, "{address}");
        }
    }

    /// IPv6 spellings of IPv4 addresses are the IPv4 address's class.
    #[test]
    fn ipv6_forms_of_ipv4_addresses_are_classified_by_what_they_carry() {
        let cases = [
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:10.0.0.5", Private),
            ("::ffff:169.254.169.254", LinkLocal),
            ("::ffff:100.64.0.1", SharedCgnat),
            ("::ffff:224.0.0.1", Multicast),
            ("::ffff:255.255.255.255", Broadcast),
            ("::ffff:0.0.0.0", Unspecified),
            ("::ffff:1.1.1.1", Public),
            ("::127.0.0.1", Loopback),
            ("::10.0.0.5", Private),
            ("::169.254.169.254", LinkLocal),
            ("::8.8.8.8", Public),
            ("64:ff9b::10.0.0.5", Private),
            ("64:ff9b::169.254.169.254", LinkLocal),
            ("64:ff9b::1.1.1.1", Public),
            ("2002:a9fe:a9fe::1", LinkLocal),
            ("2002:7f00:1::", Loopback),
            ("2002:0808:0808::1", Public),
        ];
        for (address, expected) in cases {
            assert_eq!(class(address), expected, "{address}");
        }
    }
}
