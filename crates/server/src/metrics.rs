//! Operational counters, served in the Prometheus text format at
//! `GET /metrics` on the hub's listener, so that an alerting rule can fire on
//! a dead letter. Counts only: no ids, no labels that could name a child.
//! (The full OpenTelemetry metrics of operations.md will replace this.)

use std::sync::atomic::{AtomicU64, Ordering};

/// This replica's counters since it started.
#[derive(Debug, Default)]
pub struct Metrics {
    push_delivered: AtomicU64,
    push_failed: AtomicU64,
    push_dead_lettered: AtomicU64,
    shed: AtomicU64,
    rate_limited: AtomicU64,
}

/// What a push attempt came to.
#[derive(Debug, Clone, Copy)]
pub enum PushOutcome {
    /// The endpoint took it.
    Delivered,
    /// It failed; a retry is scheduled.
    Failed,
    /// It was given up on.
    DeadLettered,
}

impl Metrics {
    /// Counts one push attempt.
    pub fn push(&self, outcome: PushOutcome) {
        let counter = match outcome {
            PushOutcome::Delivered => &self.push_delivered,
            PushOutcome::Failed => &self.push_failed,
            PushOutcome::DeadLettered => &self.push_dead_lettered,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a request shed because too many were in flight.
    pub fn shed(&self) {
        self.shed.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a request refused by its organisation's rate limit.
    pub fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let counters = [
            ("referral_hub_push_delivered_total", "Pushed inbox entries an endpoint took.", &self.push_delivered),
            (
                "referral_hub_push_failed_total",
                "Push attempts that failed and were scheduled again.",
                &self.push_failed,
            ),
            (
                "referral_hub_push_dead_letters_total",
                "Pushed inbox entries given up on (see `referral-hub dead-letters`); alert on any increase.",
                &self.push_dead_lettered,
            ),
            (
                "referral_hub_requests_shed_total",
                "Requests refused with RESOURCE_EXHAUSTED because the in-flight limit was reached.",
                &self.shed,
            ),
            (
                "referral_hub_requests_rate_limited_total",
                "Requests refused with RESOURCE_EXHAUSTED by their organisation's rate limit.",
                &self.rate_limited,
            ),
        ];
        counters
            .iter()
            .map(|(name, help, value)| {
                format!("# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n", value.load(Ordering::Relaxed))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_render_as_prometheus_counters() {
        let metrics = Metrics::default();
        metrics.push(PushOutcome::Failed);
        metrics.push(PushOutcome::Failed);
        metrics.push(PushOutcome::DeadLettered);
        let text = metrics.render();
        assert!(text.contains("# TYPE referral_hub_push_failed_total counter\nreferral_hub_push_failed_total 2\n"));
        assert!(text.contains("referral_hub_push_dead_letters_total 1\n"));
        assert!(text.contains("referral_hub_push_delivered_total 0\n"));
    }
}
