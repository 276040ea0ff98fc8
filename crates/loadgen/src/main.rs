//! `referral-hub-load`: drives a running hub like real agencies would. S sending
//! organisations submit consented referrals (closed loop at maximum, or open
//! loop at a fixed rate), R receiving organisations hold inbox streams and
//! acknowledge, and every message's end-to-end time is measured from submit
//! to the receiver's stream. The same run measures a no-op echo of the same
//! payload size over the same connections, so every figure is also a ratio,
//! and what one durable write costs on the hub's disk at the same pace, the
//! floor under its latency. Each phase first runs a short warm-up at the same
//! pace that is not counted: the figures are a running hub's, not those of
//! its first requests after a start.
//!
//! `--mode audit-proofs` measures the audit log's Merkle tree instead, on a
//! database of its own and without a hub ([`audit_proofs`]).

mod audit_proofs;
mod disk;
mod report;
mod run;
mod setup;

use std::{path::PathBuf, time::Duration};

use clap::{Parser, ValueEnum};

/// The hub's allocator (crates/cli/src/main.rs): `--mode audit-proofs` runs
/// the store in this process and should measure it as the hub runs it.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Command-line options.
#[derive(Parser, Debug, Clone)]
#[command(name = "referral-hub-load", about = "Load generator for referral-hub")]
pub struct Options {
    /// The hub's gRPC address.
    #[arg(long, default_value = "127.0.0.1:50051")]
    target: String,
    /// The hub's data directory (its signing key issues the load tokens).
    #[arg(long, default_value = "referral-hub-data")]
    data_dir: PathBuf,
    /// `iss` and `aud` of the tokens (the hub's --issuer / --audience).
    #[arg(long, default_value = "referral-hub")]
    issuer: String,
    /// An operator organisation (`serve --operator-org`; dev mode's demo one by
    /// default) whose `admin` token registers this run's organisations.
    #[arg(long, default_value = "demo-hub-operator")]
    admin_org: String,
    /// Sending organisations.
    #[arg(long, default_value_t = 4)]
    senders: usize,
    /// Receiving organisations, each holding one inbox stream.
    #[arg(long, default_value_t = 4)]
    receivers: usize,
    /// Closed loop (as fast as the hub answers) or open loop (fixed rate).
    #[arg(long, value_enum, default_value_t = Mode::Closed)]
    mode: Mode,
    /// Requests in flight (closed loop), spread over the senders.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Requests per second (open loop).
    #[arg(long, default_value_t = 500)]
    rate: u64,
    /// How long each phase runs, in seconds.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// How long each phase runs first, in seconds, at the same pace, without
    /// being measured: right after a hub starts, its first requests wait for
    /// connections to open and statements to be prepared.
    #[arg(long, default_value_t = 1)]
    warmup_seconds: u64,
    /// gRPC connections shared by all senders.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// The hub's process id, to report its resident memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Register the receivers but open no inbox streams: messages stay undelivered.
    #[arg(long)]
    no_stream: bool,
    /// Skip the echo baseline.
    #[arg(long)]
    no_echo: bool,
    /// Skip the disk baseline and probe (8 KiB write + fdatasync in --data-dir).
    #[arg(long)]
    no_disk: bool,
    /// Each receiver acknowledges after this many messages (1: every message).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    ack_every: u64,
    /// The empty database `--mode audit-proofs` fills (`sqlite://…` or
    /// `postgres://…`); no hub is involved in that mode.
    #[arg(long)]
    database_url: Option<String>,
    /// Audit entries `--mode audit-proofs` appends before building the tree.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(2..))]
    entries: u64,
    /// Inclusion proofs, and as many consistency proofs, `--mode audit-proofs`
    /// asks the store for, at random positions.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    proofs: u64,
    /// Entries `--mode audit-proofs` appends after the proofs, to time
    /// extending the tree by them.
    #[arg(long, default_value_t = 100_000)]
    extend_by: u64,
}

/// How requests are paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Each in-flight slot sends its next request when the previous answers.
    Closed,
    /// Requests start on a fixed schedule; latency counts from the scheduled start.
    Open,
    /// No hub and no requests: fill `--database-url` with `--entries` audit
    /// entries through the store, build the Merkle tree, time proofs.
    AuditProofs,
}

impl Options {
    fn duration(&self) -> Duration {
        Duration::from_secs(self.seconds)
    }

    fn warmup(&self) -> Duration {
        Duration::from_secs(self.warmup_seconds)
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let options = Options::parse();
    match run_all(&options).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("referral-hub-load: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run_all(options: &Options) -> Result<(), String> {
    if options.mode == Mode::AuditProofs {
        return audit_proofs::run(options).await;
    }
    let fleet = setup::prepare(options).await?;
    let rss_before = report::rss_kib(options.server_pid);
    let disk = if options.no_disk { run::Phase::empty() } else { disk::baseline(options).await? };
    let echo = if options.no_echo { run::Phase::empty() } else { run::echo(options, &fleet).await? };
    let probe = (!options.no_disk).then(|| disk::Probe::start(options));
    let hub = run::referrals(options, &fleet).await?;
    let probed = match probe {
        Some(probe) => probe.finish().await?,
        None => run::Phase::empty(),
    };
    let rss_after = report::rss_kib(options.server_pid);
    report::print(options, &hub, &echo, [&disk, &probed], rss_before, rss_after);
    Ok(())
}
