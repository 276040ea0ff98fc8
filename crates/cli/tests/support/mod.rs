//! What the tests of the real binary share: starting `serve --dev` and
//! reading its banner, and calling it with a token.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::{path::Path, process::Stdio, time::Duration};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};
use tonic::{Request, transport::Channel};

/// The binary under test.
pub const BINARY: &str = env!("CARGO_BIN_EXE_referral-hub");

/// A dev hub started by the binary, with what its banner said.
pub struct DevHub {
    /// The process.
    pub child: Child,
    /// Where it listens.
    pub address: String,
    /// The banner's HEALTH_TOKEN.
    pub health_token: String,
    /// The banner's WELFARE_TOKEN.
    pub welfare_token: String,
    /// The JSON body of the banner's grpcurl SubmitMessage command.
    pub demo_submit_json: String,
}

/// Starts `serve --dev` on `data_dir` (with `extra` arguments) and reads its banner.
pub async fn start_dev(data_dir: &Path, extra: &[&str]) -> DevHub {
    start_dev_with_file_limit(data_dir, extra, None).await
}

/// As [`start_dev`], with every file the hub writes limited to `kib` KiB
/// (`ulimit -f`, its signal ignored): writes beyond fail as on a full disk.
pub async fn start_dev_with_file_limit(data_dir: &Path, extra: &[&str], kib: Option<u64>) -> DevHub {
    let mut command = match kib {
        None => Command::new(BINARY),
        Some(kib) => {
            let mut shell = Command::new("bash");
            shell.args(["-c", r#"trap '' XFSZ; ulimit -f "$0"; exec "$@""#, &kib.to_string(), BINARY]);
            shell
        }
    };
    let mut child = command
        .args(["serve", "--dev", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start referral-hub");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let (mut address, mut health_token, mut welfare_token, mut demo_submit_json) = (None, None, None, None);
    let read_banner = async {
        while let Some(line) = lines.next_line().await.expect("read stderr") {
            if let Some(rest) = line.split("listening on: ").nth(1) {
                address = Some(rest.trim().to_owned());
            }
            if let Some(token) = line.strip_prefix("export HEALTH_TOKEN=") {
                health_token = Some(token.to_owned());
            }
            if let Some(token) = line.strip_prefix("export WELFARE_TOKEN=") {
                welfare_token = Some(token.to_owned());
            }
            if line.contains("grpcurl -plaintext") && line.contains("SubmitMessage") {
                demo_submit_json =
                    line.split(" -d '").nth(1).and_then(|rest| rest.split("' ").next()).map(str::to_owned);
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read_banner).await.expect("banner within 30 s");
    // Keep draining stderr so the hub never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    DevHub {
        child,
        address: address.expect("address in banner"),
        health_token: health_token.expect("token in banner"),
        welfare_token: welfare_token.expect("token in banner"),
        demo_submit_json: demo_submit_json.expect("grpcurl submit command in banner"),
    }
}

/// A plaintext channel to `address`.
pub async fn channel(address: &str) -> Channel {
    Channel::from_shared(format!("http://{address}")).unwrap().connect().await.expect("connect")
}

/// `message` with `authorization: Bearer token`.
pub fn with_token<T>(token: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

/// `audit verify` of the database `database` names (`--database-url URL`),
/// run in a directory of its own (the default data directory is relative):
/// whether it succeeded, and what it printed.
pub fn audit_verify(database: &[&str]) -> (bool, String) {
    let scratch = tempfile::tempdir().unwrap();
    let mut verify = std::process::Command::new(BINARY);
    let verify = verify.args(["audit", "verify"]).args(database).current_dir(scratch.path()).output().unwrap();
    let text = String::from_utf8_lossy(&verify.stdout).into_owned() + &String::from_utf8_lossy(&verify.stderr);
    (verify.status.success(), text)
}
