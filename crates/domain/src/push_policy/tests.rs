use super::*;

fn refusal(policy: &PushPolicy, url: &str) -> Option<EndpointRefusal> {
    policy.registrable(url).err()
}

/// The endpoints of issue 26's finding 3, and their neighbours.
#[test]
fn endpoints_are_parsed_not_prefix_matched() {
    let strict = PushPolicy::default();
    assert_eq!(refusal(&strict, "https://his.example.org/hooks"), None);
    assert_eq!(refusal(&strict, "https://his.example.org:8443/hooks?agency=7"), None);
    assert_eq!(refusal(&strict, "https://1.1.1.1/hooks"), None);
    assert_eq!(refusal(&strict, "https://[2606:4700::1111]/hooks"), None);
    let cases = [
        ("http://127.0.0.1:1@localhost:47203/hook", EndpointRefusal::Userinfo),
        ("https://user@his.example.org/", EndpointRefusal::Userinfo),
        ("https://:secret@his.example.org/", EndpointRefusal::Userinfo),
        ("https://his.example.org/hooks#part", EndpointRefusal::Fragment),
        ("http://his.example.org/hooks", EndpointRefusal::Scheme),
        ("ftp://his.example.org/hooks", EndpointRefusal::Scheme),
        ("https://", EndpointRefusal::NotAUrl),
        ("his.example.org/hooks", EndpointRefusal::NotAUrl),
        ("mailto:ops@example.org", EndpointRefusal::NotAUrl),
        ("https://his.example.org/a b", EndpointRefusal::Malformed),
        ("https://his.example.org/\n", EndpointRefusal::Malformed),
        ("https://169.254.169.254/", EndpointRefusal::Address(AddressClass::LinkLocal)),
        ("https://10.0.0.5:6443/api", EndpointRefusal::Address(AddressClass::Private)),
        ("https://[::ffff:a9fe:a9fe]/", EndpointRefusal::Address(AddressClass::LinkLocal)),
        ("https://[fd00::1]/", EndpointRefusal::Address(AddressClass::Private)),
        ("https://0x7f000001/", EndpointRefusal::Address(AddressClass::Loopback)),
        ("https://2130706433/", EndpointRefusal::Address(AddressClass::Loopback)),
        ("https://0/", EndpointRefusal::Address(AddressClass::Unspecified)),
        ("https://localhost/", EndpointRefusal::Address(AddressClass::Loopback)),
        ("https://api.LOCALHOST./", EndpointRefusal::Address(AddressClass::Loopback)),
        ("http://127.0.0.1:8080/hooks", EndpointRefusal::Address(AddressClass::Loopback)),
    ];
    for (url, expected) in cases {
        assert_eq!(refusal(&strict, url), Some(expected), "{url}");
    }
    assert_eq!(
        strict.endpoint("https://localhost/").map(|u| u.to_string()),
        Ok("https://localhost/".into()),
        "delivery leaves host names to the resolver"
    );
    let long = format!("https://his.example.org/{}", "a".repeat(MAX_ENDPOINT_CHARS));
    assert_eq!(refusal(&strict, &long), Some(EndpointRefusal::Malformed));
}

#[test]
fn dev_mode_admits_plain_http_to_loopback_hosts_only() {
    let dev = PushPolicy::dev();
    for url in ["http://127.0.0.1:8080/hooks", "http://localhost/hooks", "http://[::1]:9/", "https://localhost/"] {
        assert_eq!(refusal(&dev, url), None, "{url}");
    }
    assert_eq!(refusal(&dev, "http://his.example.org/hooks"), Some(EndpointRefusal::Scheme));
    assert_eq!(refusal(&dev, "http://10.0.0.5/"), Some(EndpointRefusal::Address(AddressClass::Private)));
    assert_eq!(refusal(&dev, "http://127.0.0.1:1@localhost:47203/hook"), Some(EndpointRefusal::Userinfo));
}

#[test]
fn the_allowlist_admits_its_networks_over_https_only() {
    let policy =
        PushPolicy { dev: false, allow: vec!["10.20.0.0/16".parse().unwrap(), "fd00:1::/48".parse().unwrap()] };
    assert_eq!(refusal(&policy, "https://10.20.3.4/hooks"), None);
    assert_eq!(refusal(&policy, "https://[fd00:1::7]/hooks"), None);
    assert_eq!(refusal(&policy, "http://10.20.3.4/hooks"), Some(EndpointRefusal::Scheme));
    assert_eq!(refusal(&policy, "https://10.21.0.1/"), Some(EndpointRefusal::Address(AddressClass::Private)));
    let ip = |text: &str| text.parse::<IpAddr>().unwrap();
    assert_eq!(policy.admits(ip("10.20.0.1")), Ok(Admitted::Allowlisted));
    assert_eq!(policy.admits(ip("::ffff:10.20.0.1")), Ok(Admitted::Allowlisted), "the mapped form too");
    assert_eq!(policy.admits(ip("8.8.8.8")), Ok(Admitted::Public));
    assert_eq!(policy.admits(ip("127.0.0.1")), Err(AddressClass::Loopback), "dev mode off");
    assert_eq!(PushPolicy::dev().admits(ip("127.0.0.1")), Ok(Admitted::Loopback));
    assert_eq!(PushPolicy::dev().admits(ip("::ffff:127.0.0.1")), Ok(Admitted::Loopback));
    assert_eq!(PushPolicy::dev().admits(ip("169.254.169.254")), Err(AddressClass::LinkLocal));
}
