//! Where the hub will push children's data (issue 26): an endpoint is parsed
//! as a URL, never prefix-matched (`http://127.0.0.1:1@localhost/` passed a
//! prefix check and sent its userinfo as a Basic header), and every address
//! it reaches is checked against its class. The same policy decides at
//! registration (the URL and any IP literal in it) and at delivery (every
//! address the host resolves to).

mod address;

use std::net::IpAddr;

pub use address::{AddressClass, classify};
/// A network in CIDR notation (`10.20.0.0/16`, `fd00:1::/48`), for the allowlist.
pub use ipnet::IpNet;
use url::{Host, Url};

/// Longest endpoint URL accepted.
const MAX_ENDPOINT_CHARS: usize = 2000;

/// What push delivery may connect to: public addresses over https, and what
/// the operator admits beyond that.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushPolicy {
    /// Dev mode: plain http to a loopback host, and loopback addresses, are
    /// admitted (a receiver on the developer's machine, and tests that push
    /// to a local sink). Never outside dev mode.
    pub dev: bool,
    /// Networks admitted although their class is refused (`--push-allow-cidr`:
    /// an agency reached over a private link).
    pub allow: Vec<IpNet>,
}

/// Why an endpoint is refused; shown to the registering admin and kept as a
/// failed delivery's reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointRefusal {
    /// Longer than the bound, or holding whitespace or control characters.
    #[error("an https:// URL of at most 2000 characters, without spaces or control characters")]
    Malformed,
    /// Not a URL a parser accepts.
    #[error("not a URL")]
    NotAUrl,
    /// Not https (plain http only to a loopback host, in dev mode).
    #[error("https only (plain http only to a loopback host in dev mode)")]
    Scheme,
    /// `user:password@`: it would be sent as credentials to the endpoint.
    #[error("no user name or password in the URL")]
    Userinfo,
    /// `#…`: never sent, so it only hides what the URL means.
    #[error("no fragment (#…) in the URL")]
    Fragment,
    /// An address (literal, or what the host names) whose class is refused.
    #[error("the address is {0}, which push delivery does not reach (see --push-allow-cidr)")]
    Address(AddressClass),
}

impl PushPolicy {
    /// The strict policy with dev mode on: what `serve --dev` and tests that
    /// push to a local sink use.
    pub fn dev() -> Self {
        Self { dev: true, allow: Vec::new() }
    }

    /// `text` parsed as an endpoint this policy lets an organisation
    /// register: [`Self::endpoint`], and outside dev mode no `localhost`
    /// name (which delivery would refuse anyway, once resolved).
    pub fn registrable(&self, text: &str) -> Result<Url, EndpointRefusal> {
        let url = self.endpoint(text)?;
        match url.host() {
            Some(Host::Domain(name)) if names_loopback(name) && !self.dev => {
                Err(EndpointRefusal::Address(AddressClass::Loopback))
            }
            _ => Ok(url),
        }
    }

    /// `text` parsed as an endpoint push delivery may try. A host name is
    /// accepted here: the addresses it resolves to are checked as they are
    /// resolved, at every attempt.
    pub fn endpoint(&self, text: &str) -> Result<Url, EndpointRefusal> {
        if text.chars().count() > MAX_ENDPOINT_CHARS || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EndpointRefusal::Malformed);
        }
        let url = Url::parse(text).map_err(|_| EndpointRefusal::NotAUrl)?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(EndpointRefusal::Userinfo);
        }
        if url.fragment().is_some() {
            return Err(EndpointRefusal::Fragment);
        }
        let loopback = match url.host() {
            Some(Host::Ipv4(ip)) => {
                self.admits(IpAddr::V4(ip)).map_err(EndpointRefusal::Address)? == Admitted::Loopback
            }
            Some(Host::Ipv6(ip)) => {
                self.admits(IpAddr::V6(ip)).map_err(EndpointRefusal::Address)? == Admitted::Loopback
            }
            Some(Host::Domain(name)) => names_loopback(name),
            None => return Err(EndpointRefusal::NotAUrl),
        };
        match url.scheme() {
            "https" => Ok(url),
            "http" if self.dev && loopback => Ok(url),
            _ => Err(EndpointRefusal::Scheme),
        }
    }

    /// Whether push delivery may connect to `address`: public ones, loopback
    /// in dev mode, and any in an allowlisted network; otherwise its class.
    pub fn admits(&self, address: IpAddr) -> Result<Admitted, AddressClass> {
        let class = classify(address);
        let canonical = address.to_canonical();
        match class {
            AddressClass::Public => Ok(Admitted::Public),
            AddressClass::Loopback if self.dev => Ok(Admitted::Loopback),
            _ if self.allow.iter().any(|net| net.contains(&address) || net.contains(&canonical)) => {
                Ok(Admitted::Allowlisted)
            }
            refused => Err(refused),
        }
    }
}

/// Why an address is admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admitted {
    /// A public address.
    Public,
    /// In a network of the operator's allowlist.
    Allowlisted,
    /// Loopback, in dev mode.
    Loopback,
}

/// `localhost` and its subdomains, which resolvers answer with loopback
/// (RFC 6761) whatever DNS says.
fn names_loopback(name: &str) -> bool {
    let name = name.trim_end_matches('.');
    name.eq_ignore_ascii_case("localhost") || name.to_ascii_lowercase().ends_with(".localhost")
}

#[cfg(test)]
mod tests;
