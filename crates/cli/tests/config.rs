//! `serve --config FILE`: every option of `serve` is documented with its
//! default in `deploy/config.example.toml`; the file applies under the
//! environment and the command line; a wrong key or value is refused at
//! start, naming it.

use std::{collections::BTreeMap, path::Path, process::Command};

const BINARY: &str = env!("CARGO_BIN_EXE_referral-hub");

fn example() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/config.example.toml");
    std::fs::read_to_string(path).expect("deploy/config.example.toml")
}

/// `serve`'s options (snake_case) with their defaults as `--help` shows them.
fn serve_options() -> BTreeMap<String, Option<String>> {
    let help = Command::new(BINARY).args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let mut options = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in help.lines() {
        let trimmed = line.trim_start();
        if let Some(flag) = trimmed.strip_prefix("--") {
            let name = flag.split([' ', '\t']).next().unwrap_or_default().replace('-', "_");
            options.insert(name.clone(), None);
            current = Some(name);
        }
        if let (Some(name), Some(rest)) = (&current, line.split("[default: ").nth(1)) {
            options.insert(name.clone(), Some(rest.split(']').next().unwrap_or_default().to_owned()));
        }
    }
    options.remove("config");
    options.remove("help");
    options
}

/// The example with every `# key = value` line made active.
fn example_uncommented() -> toml::Table {
    let text = example();
    let active: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("# "))
        .filter(|line| {
            line.split_once(" = ").is_some_and(|(key, _)| key.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        })
        .collect();
    active.join("\n").parse().expect("the documented values are valid TOML")
}

fn serve(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    // In a directory of its own: the default data directory is relative.
    let scratch = tempfile::tempdir().unwrap();
    let mut command = Command::new(BINARY);
    command.arg("serve").args(args).current_dir(scratch.path());
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn every_option_is_documented_with_its_default() {
    let documented = example_uncommented();
    for (option, default) in serve_options() {
        let value = documented.get(&option).unwrap_or_else(|| panic!("{option} is not in config.example.toml"));
        if let Some(default) = default {
            let shown = match value {
                toml::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            assert_eq!(shown, default, "{option}: the example shows the default");
        }
    }
    let options = serve_options();
    for key in documented.keys() {
        assert!(options.contains_key(key), "config.example.toml documents `{key}`, which `serve` does not have");
    }
}

#[test]
fn every_documented_value_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    let table = example_uncommented();
    std::fs::write(&file, toml::to_string(&table).unwrap()).unwrap();
    let (ok, text) = serve(&["--config", file.to_str().unwrap()], &[]);
    assert!(!ok, "the example points at TLS files that do not exist here");
    assert!(!text.contains("option `"), "every key and value of the example is accepted: {text}");
    assert!(text.contains("/etc/referral-hub/tls/cert.pem"), "it got as far as reading the certificate: {text}");
}

#[test]
fn the_command_line_beats_the_environment_which_beats_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, "dev = true\nlisten = \"192.0.2.10:0\"\n").unwrap();
    let config = file.to_str().unwrap();
    let (ok, text) = serve(&["--config", config], &[]);
    assert!(!ok && text.contains("192.0.2.10:0 is not loopback"), "the file applies: {text}");
    let (_, text) = serve(&["--config", config], &[("REFERRAL_HUB_LISTEN", "192.0.2.20:0")]);
    assert!(text.contains("192.0.2.20:0 is not loopback"), "the environment overrides the file: {text}");
    let (_, text) =
        serve(&["--config", config, "--listen", "192.0.2.30:0"], &[("REFERRAL_HUB_LISTEN", "192.0.2.20:0")]);
    assert!(text.contains("192.0.2.30:0 is not loopback"), "the command line overrides both: {text}");
    let (_, text) = serve(&[], &[("REFERRAL_HUB_CONFIG", config)]);
    assert!(text.contains("192.0.2.10:0 is not loopback"), "REFERRAL_HUB_CONFIG names the file: {text}");
}

#[test]
fn a_wrong_key_or_value_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    for (content, expected) in [
        ("listen_port = 50051\n", "option `listen_port`: unknown"),
        ("rate_limit_per_org = \"lots\"\n", "option `rate_limit_per_org`: invalid value 'lots'"),
        ("retention_days = 0\n", "option `retention_days`: invalid value '0'"),
        ("log_format = \"xml\"\n", "option `log_format`: invalid value 'xml'"),
        ("listen = [\"a\", [\"b\"]]\n", "option `listen`: a list of plain values"),
        ("listen = \n", "config.toml"),
    ] {
        let file = dir.path().join("config.toml");
        std::fs::write(&file, content).unwrap();
        let (ok, text) = serve(&["--config", file.to_str().unwrap()], &[]);
        assert!(!ok && text.contains(expected), "{content}: {text}");
        assert!(!text.contains("panicked"), "{text}");
    }
}

#[test]
fn an_identity_provider_without_usable_keys_stops_the_start_naming_why() {
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    let encryption =
        r#"{"keys": [{"kty": "RSA", "kid": "enc-1", "use": "enc", "alg": "RSA-OAEP", "n": "AQAB", "e": "AQAB"}]}"#;
    std::fs::write(&jwks, encryption).unwrap();
    let dev = ["--dev", "--listen", "127.0.0.1:0"];
    let (ok, text) = serve(&[&dev[..], &["--jwks", jwks.to_str().unwrap()]].concat(), &[]);
    assert!(!ok && text.contains("no usable signing key"), "{text}");
    assert!(text.contains("enc-1: not for signatures"), "each key left out, with the reason: {text}");

    let plain = ["--oidc-issuer", "https://127.0.0.1:9/realms/a", "--jwks-url", "http://127.0.0.1:9/certs"];
    let (ok, text) = serve(&[&dev[..], &plain].concat(), &[]);
    assert!(!ok && text.contains("over https only"), "{text}");
    let (ok, text) = serve(&[&dev[..], &plain[..2]].concat(), &[]);
    assert!(
        !ok && text.contains("identity provider: https://127.0.0.1:9/realms/a/.well-known/openid-configuration"),
        "{text}"
    );
    assert!(!text.contains("panicked"), "{text}");
}

/// A bad FHIR ConceptMap stops the start naming the file, before the hub
/// says it serves (configuration is read before the listener is served).
#[test]
fn an_unusable_concept_map_stops_the_start_before_serving() {
    let scratch = tempfile::tempdir().unwrap();
    let map = scratch.path().join("map.json");
    std::fs::write(&map, r#"{"resourceType": "ConceptMap", "group": "not a list"}"#).unwrap();
    let output = Command::new(BINARY)
        .args(["serve", "--dev", "--listen", "127.0.0.1:0", "--fhir-concept-map"])
        .arg(&map)
        .current_dir(scratch.path())
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(!output.status.success(), "{text}");
    assert!(text.to_lowercase().contains("concept"), "the error names the concept map: {text}");
    assert!(!text.contains("serving"), "refused before serving: {text}");
    assert!(!text.contains("panicked"), "{text}");
}
