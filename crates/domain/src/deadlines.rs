//! Response deadlines by message kind and risk level (domain.md "Deadlines"),
//! from configuration with Primero-style defaults.

use serde::Deserialize;
use time::{Duration, OffsetDateTime};

use crate::wire::{MessageKind, RiskLevel};

/// How long a receiver has, for one risk level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// To acknowledge, in minutes.
    pub acknowledge_minutes: i64,
    /// To accept or decline, in minutes.
    pub respond_minutes: i64,
}

/// Deadline windows for each risk level; separated-child alerts always use `high`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlinePolicy {
    /// HIGH risk.
    pub high: Window,
    /// MEDIUM risk.
    pub medium: Window,
    /// LOW risk.
    pub low: Window,
}

impl Default for DeadlinePolicy {
    fn default() -> Self {
        const HOUR: i64 = 60;
        const DAY: i64 = 24 * HOUR;
        Self {
            high: Window { acknowledge_minutes: HOUR, respond_minutes: DAY },
            medium: Window { acknowledge_minutes: DAY, respond_minutes: 3 * DAY },
            low: Window { acknowledge_minutes: 3 * DAY, respond_minutes: 7 * DAY },
        }
    }
}

/// When a message must be acknowledged and answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// Acknowledge by.
    pub acknowledge_by: OffsetDateTime,
    /// Accept or decline by.
    pub respond_by: OffsetDateTime,
}

impl DeadlinePolicy {
    /// The deadlines of a message of `kind` and `risk` created at `created_at`.
    pub fn deadlines(&self, kind: MessageKind, risk: RiskLevel, created_at: OffsetDateTime) -> Deadlines {
        let window = match (kind, risk) {
            (MessageKind::SeparatedChildAlert, _) | (_, RiskLevel::High) => self.high,
            (_, RiskLevel::Medium) => self.medium,
            // An unset risk cannot pass validation; treat it as the least urgent.
            (_, RiskLevel::Low | RiskLevel::Unspecified) => self.low,
        };
        Deadlines {
            acknowledge_by: created_at + Duration::minutes(window.acknowledge_minutes),
            respond_by: created_at + Duration::minutes(window.respond_minutes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn defaults_follow_the_spec_table() {
        let t0 = datetime!(2026-01-01 00:00 UTC);
        let policy = DeadlinePolicy::default();
        let referral = MessageKind::ServiceReferral;
        let cases = [
            (RiskLevel::High, Duration::hours(1), Duration::days(1)),
            (RiskLevel::Medium, Duration::days(1), Duration::days(3)),
            (RiskLevel::Low, Duration::days(3), Duration::days(7)),
        ];
        for (risk, ack, respond) in cases {
            let d = policy.deadlines(referral, risk, t0);
            assert_eq!((d.acknowledge_by - t0, d.respond_by - t0), (ack, respond), "{risk:?}");
        }
        let alert = policy.deadlines(MessageKind::SeparatedChildAlert, RiskLevel::Low, t0);
        assert_eq!(alert.acknowledge_by - t0, Duration::hours(1));
    }
}
