//! Static checks of `deploy/` (no container engine, Kubernetes or network
//! here): the YAML parses, the Helm templates are balanced and name only
//! values that exist, every `REFERRAL_HUB_*` variable is one the binary reads,
//! every port is the one the hub listens on, images are pinned, and the
//! systemd unit is well formed (and verified by `systemd-analyze` when present).

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use serde_yaml::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_referral-hub");

/// The admin listener's port: the gRPC health service probes reach in plaintext, and `/metrics`.
const ADMIN_PORT: u16 = 9464;

/// The port every deployment listens on and publishes.
const PORT: u16 = 50051;

/// The YAML files that are plain YAML (Helm templates are not).
const YAML_FILES: &[&str] =
    &["compose.yaml", "otel-collector.yaml", "helm/referral-hub/Chart.yaml", "helm/referral-hub/values.yaml"];

const CHART: &str = "helm/referral-hub";

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

fn read(relative: &str) -> String {
    let path = deploy_dir().join(relative);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("deploy/{relative}: {e}"))
}

fn yaml(relative: &str) -> Value {
    serde_yaml::from_str(&read(relative)).unwrap_or_else(|e| panic!("deploy/{relative} is not YAML: {e}"))
}

/// `value[a][b]…`, or a panic naming the path.
fn at<'a>(value: &'a Value, file: &str, path: &[&str]) -> &'a Value {
    path.iter().fold(value, |v, key| v.get(*key).unwrap_or_else(|| panic!("deploy/{file}: no {}", path.join("."))))
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("expected a scalar, got {other:?}"),
    }
}

/// Every file under deploy/ (recursively), as (path relative to deploy/, text);
/// `secrets/` (git-ignored key material for compose) is skipped.
fn deploy_files() -> Vec<(String, String)> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            let relative = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if relative != "secrets" {
                    walk(&path, root, out);
                }
            } else if let Ok(text) = fs::read_to_string(&path) {
                out.push((relative, text));
            }
        }
    }
    let root = deploy_dir();
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out
}

/// The Helm templates, as (file name, text).
fn templates() -> Vec<(String, String)> {
    deploy_files()
        .into_iter()
        .filter_map(|(path, text)| {
            path.strip_prefix(&format!("{CHART}/templates/")).map(|name| (name.to_owned(), text))
        })
        .collect()
}

/// `referral-hub serve --help`, with no `REFERRAL_HUB_*` variable inherited.
fn serve_help() -> String {
    let mut command = Command::new(BINARY);
    command.args(["serve", "--help"]);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("REFERRAL_HUB_") {
            command.env_remove(name);
        }
    }
    let output = command.output().expect("run referral-hub serve --help");
    assert!(output.status.success(), "serve --help failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// The variables clap prints as `[env: NAME=…]`.
fn help_env_vars(help: &str) -> BTreeSet<String> {
    help.match_indices("[env: ")
        .map(|(i, m)| help[i + m.len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect())
        .collect()
}

/// Every `REFERRAL_HUB_X` token in `text` (a bare `REFERRAL_HUB_` prefix is not one).
fn env_var_names(text: &str) -> BTreeSet<String> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices("REFERRAL_HUB_")
        .filter(|(i, _)| !text[..*i].chars().next_back().is_some_and(is_ident))
        .map(|(i, _)| text[i..].chars().take_while(|c| is_ident(*c)).collect::<String>())
        .filter(|name| !name.ends_with('_'))
        .collect()
}

/// The port of a `host:port` listen address.
fn port_of(address: &str) -> u16 {
    let address = address.trim().trim_matches('"');
    address
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or_else(|| panic!("{address:?} is not host:port"))
}

/// Dockerfile instructions, continuation lines joined, comments dropped: (INSTRUCTION, arguments).
fn dockerfile_instructions() -> Vec<(String, String)> {
    let mut instructions = Vec::new();
    let mut current = String::new();
    for line in read("Dockerfile").lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                let (instruction, arguments) = current.split_once(char::is_whitespace).unwrap_or((&current, ""));
                instructions.push((instruction.to_ascii_uppercase(), arguments.trim().to_owned()));
                current.clear();
            }
        }
    }
    instructions
}

/// `name:tag` with a tag that is not `latest` (a digest also pins).
fn assert_pinned(image: &str, place: &str) {
    if image.contains('@') {
        return;
    }
    let last = image.rsplit('/').next().unwrap();
    let tag = last.split_once(':').map(|(_, tag)| tag);
    assert!(matches!(tag, Some(t) if !t.is_empty() && t != "latest"), "{place}: image {image} is not pinned to a tag");
}

#[test]
fn yaml_files_parse() {
    for file in YAML_FILES {
        let value = yaml(file);
        assert!(value.is_mapping(), "deploy/{file} is not a mapping");
    }

    let chart = yaml("helm/referral-hub/Chart.yaml");
    assert_eq!(text(at(&chart, "Chart.yaml", &["apiVersion"])), "v2");
    assert_eq!(text(at(&chart, "Chart.yaml", &["name"])), "referral-hub");
    at(&chart, "Chart.yaml", &["version"]);
    at(&chart, "Chart.yaml", &["appVersion"]);

    let values = yaml("helm/referral-hub/values.yaml");
    let replicas = at(&values, "values.yaml", &["replicaCount"]).as_u64().unwrap();
    assert_eq!(replicas, 3, "three replicas by default");
    let min_available = at(&values, "values.yaml", &["podDisruptionBudget", "minAvailable"]).as_u64().unwrap();
    assert!(min_available < replicas, "the disruption budget must leave room to evict one pod");

    let otel = yaml("otel-collector.yaml");
    let endpoint = text(at(&otel, "otel-collector.yaml", &["receivers", "otlp", "protocols", "grpc", "endpoint"]));
    assert_eq!(port_of(&endpoint), 4317);
    at(&otel, "otel-collector.yaml", &["exporters", "debug"]);
    let traces = at(&otel, "otel-collector.yaml", &["service", "pipelines", "traces"]);
    assert_eq!(traces["receivers"], serde_yaml::from_str::<Value>("[otlp]").unwrap());
    assert!(traces["exporters"].as_sequence().unwrap().contains(&Value::from("debug")));
}

#[test]
fn compose_is_consistent_and_keeps_secrets_in_files() {
    let compose = yaml("compose.yaml");
    let services = at(&compose, "compose.yaml", &["services"]).as_mapping().unwrap();
    for name in ["hub", "postgres", "otel-collector"] {
        assert!(services.contains_key(name), "compose.yaml: no service {name}");
    }
    let declared_secrets = at(&compose, "compose.yaml", &["secrets"]).as_mapping().unwrap();
    for (name, secret) in declared_secrets {
        let file = text(&secret["file"]);
        assert!(file.starts_with("./secrets/"), "secret {name:?} must be a file under deploy/secrets/, not {file}");
    }
    let declared_volumes = at(&compose, "compose.yaml", &["volumes"]).as_mapping().unwrap();

    for (name, service) in services {
        let name = text(name);
        for secret in service["secrets"].as_sequence().into_iter().flatten() {
            let secret = secret.as_str().map(str::to_owned).unwrap_or_else(|| text(&secret["source"]));
            assert!(declared_secrets.contains_key(secret.as_str()), "{name}: secret {secret} is not declared");
        }
        for volume in service["volumes"].as_sequence().into_iter().flatten() {
            let source = text(volume).split(':').next().unwrap().to_owned();
            if source.starts_with('.') || source.starts_with('/') {
                assert!(deploy_dir().join(&source).exists(), "{name}: bind mount {source} does not exist");
            } else {
                assert!(declared_volumes.contains_key(source.as_str()), "{name}: volume {source} is not declared");
            }
        }
        // Nothing secret inline: only *_FILE variables may name passwords.
        for (key, value) in service["environment"].as_mapping().into_iter().flatten() {
            let key = text(key);
            let upper = key.to_ascii_uppercase();
            if ["PASSWORD", "SECRET", "TOKEN"].iter().any(|word| upper.contains(word)) {
                assert!(upper.ends_with("_FILE"), "{name}: {key} is inline; use a *_FILE variable and a secret");
                assert!(text(value).starts_with("/run/secrets/"), "{name}: {key} must point under /run/secrets/");
            }
        }
    }

    let hub = &services["hub"];
    assert_eq!(text(&hub["build"]["context"]), "..");
    let dockerfile = text(&hub["build"]["dockerfile"]);
    assert!(deploy_dir().join("..").join(&dockerfile).is_file(), "hub: build.dockerfile {dockerfile} is missing");
    let env = hub["environment"].as_mapping().unwrap();
    let hub_secrets: Vec<String> = hub["secrets"].as_sequence().unwrap().iter().map(text).collect();
    for variable in ["REFERRAL_HUB_TLS_CERT", "REFERRAL_HUB_TLS_KEY"] {
        let path = text(&env[variable]);
        let secret = path.strip_prefix("/run/secrets/").unwrap_or_else(|| panic!("{variable} is not a secret file"));
        assert!(hub_secrets.iter().any(|s| s == secret), "hub: {variable} names secret {secret} the hub lacks");
    }
    let url = text(&env["REFERRAL_HUB_DATABASE_URL"]);
    let authority = url.split_once("://").unwrap().1.split('/').next().unwrap();
    let (userinfo, host) = authority.split_once('@').unwrap();
    assert!(!userinfo.contains(':'), "the database URL must not carry the password");
    assert_eq!(host.split(':').next().unwrap(), "postgres", "the database URL names the postgres service");
    assert_eq!(text(&env["REFERRAL_HUB_OTLP_ENDPOINT"]), "http://otel-collector:4317");

    let postgres = &services["postgres"];
    assert!(postgres["healthcheck"]["test"].is_sequence(), "postgres needs a healthcheck");
    assert_eq!(text(&hub["depends_on"]["postgres"]["condition"]), "service_healthy");
    assert!(text(&postgres["environment"]["POSTGRES_PASSWORD_FILE"]).starts_with("/run/secrets/"));
}

#[test]
fn images_are_pinned() {
    let compose = yaml("compose.yaml");
    for (name, service) in at(&compose, "compose.yaml", &["services"]).as_mapping().unwrap() {
        let name = text(name);
        match service.get("image") {
            Some(image) => assert_pinned(&text(image), &format!("compose.yaml service {name}")),
            None => assert!(service.get("build").is_some(), "compose.yaml service {name}: neither image nor build"),
        }
    }
    let froms: Vec<_> = dockerfile_instructions().into_iter().filter(|(i, _)| i == "FROM").collect();
    assert!(froms.len() >= 2, "the Dockerfile is multi-stage");
    for (_, arguments) in froms {
        let image = arguments.split_whitespace().find(|word| !word.starts_with("--")).unwrap();
        assert_pinned(image, "Dockerfile FROM");
    }
}

#[test]
fn dockerfile_runs_serve_as_non_root_with_a_data_volume() {
    let instructions = dockerfile_instructions();
    let last_stage = instructions.iter().rposition(|(i, _)| i == "FROM").unwrap();
    let runtime = &instructions[last_stage..];
    let find = |name: &str| -> Vec<&str> {
        runtime.iter().filter(|(i, _)| i == name).map(|(_, arguments)| arguments.as_str()).collect()
    };
    assert!(runtime[0].1.starts_with("debian:bookworm-slim"), "runtime stage: {}", runtime[0].1);
    assert_eq!(find("USER"), ["10001:10001"]);
    assert_eq!(find("VOLUME"), [r#"["/var/lib/referral-hub"]"#]);
    assert_eq!(find("ENTRYPOINT"), [r#"["/usr/local/bin/referral-hub", "serve"]"#]);
    let env = find("ENV").join(" ");
    assert!(env.contains("REFERRAL_HUB_DATA_DIR=/var/lib/referral-hub"), "ENV: {env}");
    let build = instructions[..last_stage].iter().map(|(_, a)| a.as_str()).collect::<Vec<_>>().join("\n");
    assert!(build.contains("cargo build --release -p referral-hub --locked"), "the build stage builds the binary");
}

#[test]
fn every_env_var_in_deploy_is_one_serve_reads() {
    let help = serve_help();
    let known = help_env_vars(&help);
    assert!(known.contains("REFERRAL_HUB_LISTEN"), "serve --help lists no env variables:\n{help}");

    let mut unknown = Vec::new();
    let mut seen = BTreeSet::new();
    for (path, text) in deploy_files() {
        for name in env_var_names(&text) {
            if !known.contains(&name) {
                unknown.push(format!("deploy/{path}: {name}"));
            }
            seen.insert(name);
        }
    }
    assert!(unknown.is_empty(), "not read by `referral-hub serve` (see its --help):\n{}", unknown.join("\n"));
    assert!(seen.len() > 5, "found too few REFERRAL_HUB_ variables in deploy/: {seen:?}");

    // The example environment file documents every variable serve reads.
    let example = env_var_names(&read("referral-hub.env.example"));
    let undocumented: Vec<_> = known.iter().filter(|name| !example.contains(*name)).collect();
    assert!(undocumented.is_empty(), "deploy/referral-hub.env.example does not mention {undocumented:?}");
    for line in read("referral-hub.env.example").lines().map(str::trim) {
        let line = line.strip_prefix('#').filter(|l| l.starts_with("REFERRAL_HUB_")).unwrap_or(line);
        if !line.is_empty() && !line.starts_with('#') {
            let (name, _) = line.split_once('=').unwrap_or_else(|| panic!("env example: not NAME=value: {line}"));
            assert!(name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'), "{line}");
        }
    }
}

#[test]
fn ports_agree_with_the_listen_address() {
    let help = serve_help();
    // `[env: REFERRAL_HUB_LISTEN=]` then `[default: …]`, on the same line or the next.
    let after_env = &help[help.find("[env: REFERRAL_HUB_LISTEN=").expect("--listen in help")..];
    let block = after_env.split("\n\n").next().unwrap();
    let default = block.split("[default: ").nth(1).and_then(|rest| rest.split(']').next()).expect("--listen default");
    assert_eq!(port_of(default), PORT, "the hub's default listen port");

    // Dockerfile: the image's listen address and EXPOSE.
    let instructions = dockerfile_instructions();
    let env = instructions.iter().filter(|(i, _)| i == "ENV").map(|(_, a)| a.as_str()).collect::<Vec<_>>().join(" ");
    let image_listen = env
        .split_whitespace()
        .find_map(|pair| pair.strip_prefix("REFERRAL_HUB_LISTEN="))
        .expect("the image sets REFERRAL_HUB_LISTEN");
    assert_eq!(port_of(image_listen), PORT, "the image's REFERRAL_HUB_LISTEN");
    let exposed: Vec<_> = instructions.iter().filter(|(i, _)| i == "EXPOSE").map(|(_, a)| a.as_str()).collect();
    assert_eq!(exposed, [PORT.to_string()]);

    // compose: listen address and published container port.
    let compose = yaml("compose.yaml");
    let hub = &compose["services"]["hub"];
    assert_eq!(port_of(&text(&hub["environment"]["REFERRAL_HUB_LISTEN"])), PORT, "compose hub listen");
    let ports = hub["ports"].as_sequence().expect("compose hub publishes its port");
    for mapping in ports {
        assert_eq!(port_of(&text(mapping)), PORT, "compose hub container port");
    }

    // Helm: container port, probe ports, listen address.
    let mut probe_ports = Vec::new();
    let mut container_ports = Vec::new();
    let mut listens = Vec::new();
    for (name, text) in templates() {
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for (i, line) in lines.iter().enumerate() {
            if *line == "grpc:" || *line == "tcpSocket:" {
                let port = lines
                    .get(i + 1)
                    .and_then(|l| l.strip_prefix("port: "))
                    .unwrap_or_else(|| panic!("templates/{name}: `{line}` must be followed by a literal `port:` line"));
                probe_ports.push(port.parse::<u16>().unwrap());
            }
            if let Some(port) = line.strip_prefix("containerPort: ") {
                container_ports.push(port.parse::<u16>().unwrap());
            }
            if *line == "- name: REFERRAL_HUB_LISTEN" {
                listens.push(lines[i + 1].strip_prefix("value: ").expect("listen value").to_owned());
            }
        }
    }
    let deployment = templates().into_iter().find(|(n, _)| n == "deployment.yaml").expect("deployment.yaml").1;
    assert!(deployment.contains("readinessProbe:") && deployment.contains("livenessProbe:"));
    let values = yaml("helm/referral-hub/values.yaml");
    assert_eq!(text(&values["probes"]["type"]), "grpc", "the native gRPC probe by default");
    assert!(probe_ports.len() >= 2, "no grpc/tcpSocket probe found in the templates");
    assert!(probe_ports.iter().all(|p| *p == ADMIN_PORT), "probes reach the admin listener: {probe_ports:?}");
    assert_eq!(container_ports, [PORT, ADMIN_PORT], "containerPort");
    assert!(
        deployment
            .contains(&format!("- name: REFERRAL_HUB_ADMIN_LISTEN\n              value: \"0.0.0.0:{ADMIN_PORT}\""))
    );
    assert_eq!(listens.len(), 1, "REFERRAL_HUB_LISTEN set once in the chart");
    assert_eq!(port_of(&listens[0]), PORT, "chart REFERRAL_HUB_LISTEN");

    // systemd: the unit's default and the example's.
    let unit = read("referral-hub.service");
    let unit_listen = unit.lines().find_map(|l| l.strip_prefix("Environment=REFERRAL_HUB_LISTEN=")).unwrap();
    assert_eq!(port_of(unit_listen), PORT, "systemd unit listen");
    for line in read("referral-hub.env.example").lines() {
        if let Some(address) = line.trim_start_matches('#').strip_prefix("REFERRAL_HUB_LISTEN=") {
            assert_eq!(port_of(address), PORT, "env example listen");
        }
    }
}

#[test]
fn helm_templates_are_balanced_and_name_existing_values() {
    let values = yaml("helm/referral-hub/values.yaml");
    let templates = templates();
    let names: Vec<_> = templates.iter().map(|(n, _)| n.as_str()).collect();
    for expected in ["_helpers.tpl", "deployment.yaml", "service.yaml", "poddisruptionbudget.yaml", "cnpg-cluster.yaml"]
    {
        assert!(names.contains(&expected), "templates/{expected} is missing");
    }

    let mut defined = BTreeSet::new();
    let mut used = Vec::new();
    for (name, text) in &templates {
        // Every action opens and closes, never nested.
        let mut depth = 0;
        let bytes = text.as_bytes();
        let mut i = 0;
        while i + 1 < bytes.len() {
            match &bytes[i..i + 2] {
                b"{{" => {
                    depth += 1;
                    assert_eq!(depth, 1, "templates/{name}: nested `{{{{` at byte {i}");
                    i += 2;
                }
                b"}}" => {
                    depth -= 1;
                    assert_eq!(depth, 0, "templates/{name}: `}}}}` without `{{{{` at byte {i}");
                    i += 2;
                }
                _ => i += 1,
            }
        }
        assert_eq!(depth, 0, "templates/{name}: unclosed `{{{{`");

        // Every .Values path exists in values.yaml.
        for (at_index, found) in text.match_indices(".Values.") {
            let path: String = text[at_index + found.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
                .collect();
            let path = path.trim_end_matches('.');
            let mut value = &values;
            for key in path.split('.') {
                value = value
                    .get(key)
                    .unwrap_or_else(|| panic!("templates/{name}: .Values.{path} is not in values.yaml (at {key})"));
            }
        }

        // Named templates: every include has a define.
        for (i, m) in text.match_indices("define \"") {
            defined.insert(text[i + m.len()..].split('"').next().unwrap().to_owned());
        }
        for keyword in ["include \"", "template \""] {
            for (i, m) in text.match_indices(keyword) {
                used.push((name.clone(), text[i + m.len()..].split('"').next().unwrap().to_owned()));
            }
        }
    }
    for (file, template) in used {
        assert!(defined.contains(&template), "templates/{file}: {template:?} is not defined");
    }

    // The CloudNativePG cluster only when asked for; its app Secret otherwise the external one.
    let cnpg = &templates.iter().find(|(n, _)| n == "cnpg-cluster.yaml").unwrap().1;
    assert!(cnpg.trim_start().starts_with("{{- if .Values.postgres.cloudnativepg.enabled }}"));
    assert!(cnpg.contains("apiVersion: postgresql.cnpg.io/v1") && cnpg.contains("kind: Cluster"));
    assert_eq!(values["postgres"]["cloudnativepg"]["enabled"], Value::Bool(false));
    let deployment = &templates.iter().find(|(n, _)| n == "deployment.yaml").unwrap().1;
    assert!(
        deployment
            .contains("- name: REFERRAL_HUB_DATABASE_URL\n              valueFrom:\n                secretKeyRef:")
    );
}

/// `[Section]` → `Key=value` lines (continuations joined), in order.
fn unit_sections(unit: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut pending = String::new();
    for line in unit.lines() {
        let line = line.trim();
        if pending.is_empty() && (line.is_empty() || line.starts_with('#') || line.starts_with(';')) {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            sections.push((name.to_owned(), Vec::new()));
            continue;
        }
        if let Some(part) = line.strip_suffix('\\') {
            pending.push_str(part);
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        let (key, value) = pending.split_once('=').unwrap_or_else(|| panic!("unit: not Key=value: {pending}"));
        let section = sections.last_mut().unwrap_or_else(|| panic!("unit: {key} before any [Section]"));
        section.1.push((key.trim().to_owned(), value.trim().to_owned()));
        pending.clear();
    }
    sections
}

#[test]
fn systemd_unit_is_well_formed() {
    let unit = read("referral-hub.service");
    let sections = unit_sections(&unit);
    let names: Vec<_> = sections.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Unit", "Service", "Install"]);
    let service = &sections[1].1;
    let get = |key: &str| -> Vec<&str> { service.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect() };
    assert_eq!(get("ExecStart"), ["/usr/local/bin/referral-hub serve"]);
    for (key, value) in [
        ("User", "referral-hub"),
        ("StateDirectory", "referral-hub"),
        ("EnvironmentFile", "-/etc/referral-hub/referral-hub.env"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("ReadWritePaths", "/var/lib/referral-hub"),
        ("Restart", "on-failure"),
    ] {
        assert_eq!(get(key), [value], "[Service] {key}");
    }
    let data_dir = get("Environment").into_iter().find_map(|v| v.strip_prefix("REFERRAL_HUB_DATA_DIR="));
    assert_eq!(data_dir, Some("/var/lib/referral-hub"), "the data dir is the state directory");
    assert!(sections[2].1.iter().any(|(k, v)| k == "WantedBy" && v == "multi-user.target"));

    // systemd's own check, on a copy whose ExecStart is this build's binary
    // (verify refuses a unit whose program does not exist).
    let Some(analyze) = std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).map(|d| d.join("systemd-analyze")).find(|p| p.is_file()))
    else {
        eprintln!("systemd-analyze not on PATH: skipping `systemd-analyze verify`");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("referral-hub.service");
    fs::write(&copy, unit.replace("ExecStart=/usr/local/bin/referral-hub", &format!("ExecStart={BINARY}"))).unwrap();
    let output = Command::new(analyze).arg("verify").arg(&copy).current_dir(dir.path()).output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    // verify exits 0 on unknown keys and bad values, so any word about the unit is a failure.
    let complaints: Vec<_> = said.lines().filter(|l| l.contains("referral-hub.service")).collect();
    assert!(output.status.success() && complaints.is_empty(), "systemd-analyze verify:\n{said}");
}
