//! The disk baseline: what one durable write costs on the hub's disk, at the
//! run's pace, in the same run. A durable submit waits for at least one
//! fdatasync, so the disk's own tail is a floor under the hub's: a submit p99
//! is read against it as throughput is read against the echo. On a shared
//! virtual disk that floor moves from minute to minute (docs/benchmarks.md),
//! so a slow probe also runs beside the referrals, to show whether the disk
//! stalled while they ran.

use std::{
    fs::{File, OpenOptions},
    os::unix::fs::FileExt,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use crate::{
    Mode, Options,
    run::{Phase, histogram},
};

/// Bytes per write: one PostgreSQL WAL page, two SQLite pages.
const WRITE: u64 = 8192;
/// The file's size. It is written in full first, so that the measured writes
/// overwrite allocated blocks, as in a recycled WAL segment or a SQLite WAL.
const FILE: u64 = 16 << 20;
/// The probe's pace: slow enough to add little to the hub's own writes.
const PROBE_PACE: Duration = Duration::from_millis(20);

/// Writes and syncs one block at a time (open loop: at the run's rate, latency
/// counted from the scheduled start, so a stall delays the writes queued
/// behind it as it would a single writer; closed loop: back to back) for the
/// phase's duration.
pub async fn baseline(options: &Options) -> Result<Phase, String> {
    let pace = match options.mode {
        Mode::Open => Some(Duration::from_secs_f64(1.0 / options.rate.max(1) as f64)),
        Mode::Closed | Mode::AuditProofs => None,
    };
    let path = options.data_dir.join("referral-hub-load.disk-baseline");
    let duration = options.duration();
    measure(path, pace, move |next| next >= duration).await
}

/// Syncs at [`PROBE_PACE`] until finished.
pub struct Probe {
    stop: Arc<AtomicBool>,
    measured: tokio::task::JoinHandle<Result<Phase, String>>,
}

impl Probe {
    /// Starts probing beside whatever runs next.
    pub fn start(options: &Options) -> Probe {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let path = options.data_dir.join("referral-hub-load.disk-probe");
        let measured = tokio::spawn(measure(path, Some(PROBE_PACE), move |_| stopped.load(Ordering::Relaxed)));
        Probe { stop, measured }
    }

    /// Stops probing and returns what it measured.
    pub async fn finish(self) -> Result<Phase, String> {
        self.stop.store(true, Ordering::Relaxed);
        self.measured.await.map_err(|error| error.to_string())?
    }
}

/// Writes and syncs blocks in a fresh file at `path` until `done(when the next
/// write starts, counted from the first)`, then deletes the file.
async fn measure(
    path: PathBuf,
    pace: Option<Duration>,
    done: impl Fn(Duration) -> bool + Send + 'static,
) -> Result<Phase, String> {
    tokio::task::spawn_blocking(move || {
        let measured = syncs(&path, pace, done);
        let _ = std::fs::remove_file(&path);
        measured.map_err(|error| format!("syncing {}: {error}", path.display()))
    })
    .await
    .map_err(|error| error.to_string())?
}

fn syncs(path: &Path, pace: Option<Duration>, done: impl Fn(Duration) -> bool) -> std::io::Result<Phase> {
    let file = preallocated(path)?;
    let block = [0x5a; WRITE as usize];
    let mut latency = histogram();
    let start = Instant::now();
    let mut written = 0u64;
    loop {
        let began = match pace {
            Some(interval) => start + interval.mul_f64(written as f64),
            None => Instant::now(),
        };
        if done(began - start) {
            break;
        }
        if let Some(wait) = began.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        file.write_all_at(&block, written * WRITE % FILE)?;
        file.sync_data()?;
        let _ = latency.record((began.elapsed().as_micros() as u64).max(1));
        written += 1;
    }
    Ok(Phase { ok: written, elapsed: start.elapsed(), latency, ..Phase::empty() })
}

fn preallocated(path: &Path) -> std::io::Result<File> {
    let file = OpenOptions::new().read(true).write(true).create(true).truncate(true).open(path)?;
    let block = [0u8; WRITE as usize];
    for offset in (0..FILE).step_by(WRITE as usize) {
        file.write_all_at(&block, offset)?;
    }
    file.sync_all()?;
    Ok(file)
}
