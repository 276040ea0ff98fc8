//! A PostgreSQL server of a test's own, for tests that stop and start it
//! (the shared test server must stay up for every other test). Made with the
//! binaries `scripts/test` found (`REFERRAL_HUB_TEST_PG_BIN`), run as
//! `REFERRAL_HUB_TEST_PG_RUN_AS` when the tests run as root.

use std::{path::PathBuf, process::Command};

use tempfile::TempDir;

/// A throwaway cluster on a free loopback port; deleted when dropped.
pub struct PrivatePostgres {
    dir: TempDir,
    port: u16,
    bin: PathBuf,
    run_as: Option<String>,
}

impl PrivatePostgres {
    /// Creates the cluster and starts it.
    pub fn start() -> PrivatePostgres {
        let bin = std::env::var("REFERRAL_HUB_TEST_PG_BIN")
            .expect("fault tests need REFERRAL_HUB_TEST_PG_BIN; run ./scripts/test, which sets it");
        let run_as = std::env::var("REFERRAL_HUB_TEST_PG_RUN_AS").ok().filter(|user| !user.is_empty());
        let dir = tempfile::tempdir().expect("temp dir");
        if let Some(user) = &run_as {
            let owned = Command::new("chown").arg(format!("{user}:")).arg(dir.path()).status().expect("chown");
            assert!(owned.success(), "chown the cluster directory to {user}");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let server = PrivatePostgres { dir, port, bin: PathBuf::from(bin), run_as };
        let data = server.data();
        server.run("initdb", &["-D", &data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
        server.start_again();
        server
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// A PostgreSQL program, to be run as the cluster's owner.
    fn command(&self, program: &str, args: &[&str]) -> Command {
        let program = self.bin.join(program);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(&program);
                command
            }
            None => Command::new(&program),
        };
        command.args(args).current_dir("/");
        command
    }

    /// Runs a PostgreSQL program; panics if it fails.
    fn run(&self, program: &str, args: &[&str]) {
        let output = self.command(program, args).output().expect("run a PostgreSQL program");
        assert!(output.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start_again(&self) {
        let options =
            format!("-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off", self.port, self.dir.path().display());
        let log = self.dir.path().join("log").display().to_string();
        self.run("pg_ctl", &["-w", "-D", &self.data(), "-l", &log, "-o", &options, "start"]);
    }

    /// Stops the server at once, as a crash or a restart for maintenance would
    /// (`-m fast`: every connection is cut).
    pub fn stop(&self) {
        self.run("pg_ctl", &["-w", "-D", &self.data(), "-m", "fast", "stop"]);
    }

    /// The server URL (its `postgres` database).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.command("pg_ctl", &["-D", &self.data(), "-m", "immediate", "stop"]).output();
    }
}
