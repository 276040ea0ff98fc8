//! Printing a run's figures: throughput, latency percentiles, errors, memory,
//! the ratio of the hub to the echo baseline, and the disk's own floor.

use hdrhistogram::Histogram;

use crate::{Options, run::Phase};

/// The server's resident memory in KiB, from /proc.
pub fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn percentiles(name: &str, h: &Histogram<u64>) {
    if h.is_empty() {
        println!("{name:<22} (no samples)");
        return;
    }
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "{name:<22} p50 {:>8.2} ms  p90 {:>8.2} ms  p99 {:>8.2} ms  p99.9 {:>8.2} ms  max {:>8.2} ms",
        ms(0.5),
        ms(0.9),
        ms(0.99),
        ms(0.999),
        h.max() as f64 / 1000.0
    );
}

/// Prints the report.
pub fn print(
    options: &Options,
    hub: &Phase,
    echo: &Phase,
    [disk, probe]: [&Phase; 2],
    rss_before: Option<u64>,
    rss_after: Option<u64>,
) {
    let rate = |p: &Phase| if p.ok == 0 { 0.0 } else { p.ok as f64 / p.elapsed.as_secs_f64() };
    println!(
        "referral-hub-load: {:?} loop, {} senders, {} receivers, {} connections, {} s per phase after {} s of warm-up",
        options.mode, options.senders, options.receivers, options.connections, options.seconds, options.warmup_seconds
    );
    match options.mode {
        crate::Mode::Closed => println!("concurrency {}", options.concurrency),
        crate::Mode::Open => println!("target rate {}/s", options.rate),
        crate::Mode::AuditProofs => {}
    }
    println!();
    if !options.no_disk {
        println!("disk baseline          {:>10.0} syncs/s ({} syncs of 8 KiB, one at a time)", rate(disk), disk.ok);
        percentiles("disk sync latency", &disk.latency);
    }
    if !options.no_echo {
        println!("echo baseline          {:>10.0} calls/s ({} ok)", rate(echo), echo.ok);
        percentiles("echo latency", &echo.latency);
    }
    println!("referrals (durable)    {:>10.0} /s ({} ok, {} delivered on streams)", rate(hub), hub.ok, hub.delivered);
    percentiles("submit latency", &hub.latency);
    percentiles("end-to-end latency", &hub.end_to_end);
    if !options.no_disk {
        // The disk's tail while the referrals ran: a stall here is a stall of every commit.
        println!("disk probe beside them {:>10.0} syncs/s ({} syncs)", rate(probe), probe.ok);
        percentiles("disk probe latency", &probe.latency);
    }
    if !options.no_echo {
        println!("hub / echo throughput  {:>10.3}", rate(hub) / rate(echo).max(f64::MIN_POSITIVE));
    }
    for (phase, errors) in [("echo", &echo.errors), ("referrals", &hub.errors)] {
        for (code, count) in errors {
            println!("errors ({phase}): {code} x {count}");
        }
    }
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        println!(
            "server RSS             {:>7.1} MiB before, {:>7.1} MiB after",
            before as f64 / 1024.0,
            after as f64 / 1024.0
        );
    }
}
