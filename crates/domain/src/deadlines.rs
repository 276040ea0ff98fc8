//! Response deadlines by message kind and risk level (docs/domain.md "Deadlines and escalation"),
//! from configuration with Primero-style defaults.
//!
//! The configuration file (TOML) gives the windows by risk level for every
//! kind, and may replace them for case transfers, and give separated-child
//! alerts one window of their own (by default they use HIGH's, whatever the
//! alert's risk level):
//!
//! ```toml
//! high = { acknowledge_minutes = 60, respond_minutes = 1440 }
//! medium = { acknowledge_minutes = 1440, respond_minutes = 4320 }
//! low = { acknowledge_minutes = 4320, respond_minutes = 10080 }
//!
//! [case_transfer]   # optional
//! high = { acknowledge_minutes = 60, respond_minutes = 720 }
//! medium = { acknowledge_minutes = 1440, respond_minutes = 2880 }
//! low = { acknowledge_minutes = 2880, respond_minutes = 7200 }
//!
//! [separated_child_alert]   # optional
//! acknowledge_minutes = 30
//! respond_minutes = 720
//! ```

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

/// Windows for each risk level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskWindows {
    /// HIGH risk.
    pub high: Window,
    /// MEDIUM risk.
    pub medium: Window,
    /// LOW risk.
    pub low: Window,
}

/// The deadline configuration: windows by risk for every kind, and the
/// kinds that differ.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlinePolicy {
    /// HIGH risk.
    pub high: Window,
    /// MEDIUM risk.
    pub medium: Window,
    /// LOW risk.
    pub low: Window,
    /// Case transfers' windows, when they differ from the above.
    #[serde(default)]
    pub case_transfer: Option<RiskWindows>,
    /// Every separated-child alert's window; `None`: HIGH's.
    #[serde(default)]
    pub separated_child_alert: Option<Window>,
}

/// A deadline file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DeadlineError {
    /// Not TOML of the expected shape.
    #[error("deadlines are malformed: {0}")]
    Malformed(#[from] toml::de::Error),
    /// A window is empty or answers before it acknowledges.
    #[error("deadlines: {0}")]
    Invalid(String),
}

impl Default for DeadlinePolicy {
    fn default() -> Self {
        const HOUR: i64 = 60;
        const DAY: i64 = 24 * HOUR;
        Self {
            high: Window { acknowledge_minutes: HOUR, respond_minutes: DAY },
            medium: Window { acknowledge_minutes: DAY, respond_minutes: 3 * DAY },
            low: Window { acknowledge_minutes: 3 * DAY, respond_minutes: 7 * DAY },
            case_transfer: None,
            separated_child_alert: None,
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
    /// Parses and checks a deadline file.
    pub fn from_toml(text: &str) -> Result<Self, DeadlineError> {
        let policy: DeadlinePolicy = toml::from_str(text)?;
        let mut windows = vec![("high", policy.high), ("medium", policy.medium), ("low", policy.low)];
        if let Some(t) = policy.case_transfer {
            windows.extend([("case_transfer.high", t.high), ("case_transfer.medium", t.medium)]);
            windows.push(("case_transfer.low", t.low));
        }
        windows.extend(policy.separated_child_alert.map(|w| ("separated_child_alert", w)));
        for (name, w) in windows {
            if w.acknowledge_minutes <= 0 || w.respond_minutes < w.acknowledge_minutes {
                return Err(DeadlineError::Invalid(format!(
                    "{name}: acknowledge_minutes must be positive and respond_minutes at least as long"
                )));
            }
        }
        Ok(policy)
    }

    /// The deadlines of a message of `kind` and `risk` created at `created_at`.
    pub fn deadlines(&self, kind: MessageKind, risk: RiskLevel, created_at: OffsetDateTime) -> Deadlines {
        let by_risk = |windows: RiskWindows| match risk {
            RiskLevel::High => windows.high,
            RiskLevel::Medium => windows.medium,
            // An unset risk cannot pass validation; treat it as the least urgent.
            RiskLevel::Low | RiskLevel::Unspecified => windows.low,
        };
        let general = RiskWindows { high: self.high, medium: self.medium, low: self.low };
        let window = match kind {
            MessageKind::SeparatedChildAlert => self.separated_child_alert.unwrap_or(self.high),
            MessageKind::CaseTransfer => by_risk(self.case_transfer.unwrap_or(general)),
            MessageKind::ServiceReferral | MessageKind::Unspecified => by_risk(general),
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

    const T0: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

    fn windows(policy: &DeadlinePolicy, kind: MessageKind, risk: RiskLevel) -> (Duration, Duration) {
        let d = policy.deadlines(kind, risk, T0);
        (d.acknowledge_by - T0, d.respond_by - T0)
    }

    #[test]
    fn defaults_follow_the_spec_table() {
        let policy = DeadlinePolicy::default();
        let cases = [
            (RiskLevel::High, Duration::hours(1), Duration::days(1)),
            (RiskLevel::Medium, Duration::days(1), Duration::days(3)),
            (RiskLevel::Low, Duration::days(3), Duration::days(7)),
        ];
        for (risk, ack, respond) in cases {
            assert_eq!(windows(&policy, MessageKind::ServiceReferral, risk), (ack, respond), "{risk:?}");
            assert_eq!(windows(&policy, MessageKind::CaseTransfer, risk), (ack, respond), "{risk:?}");
            let alert = windows(&policy, MessageKind::SeparatedChildAlert, risk);
            assert_eq!(alert, (Duration::hours(1), Duration::days(1)), "every alert is HIGH");
        }
    }

    const FILE: &str = r#"
        high = { acknowledge_minutes = 30, respond_minutes = 600 }
        medium = { acknowledge_minutes = 1440, respond_minutes = 4320 }
        low = { acknowledge_minutes = 4320, respond_minutes = 10080 }
        [case_transfer]
        high = { acknowledge_minutes = 60, respond_minutes = 720 }
        medium = { acknowledge_minutes = 1440, respond_minutes = 2880 }
        low = { acknowledge_minutes = 2880, respond_minutes = 7200 }
        [separated_child_alert]
        acknowledge_minutes = 15
        respond_minutes = 240
    "#;

    #[test]
    fn a_file_sets_windows_by_kind_and_risk() {
        let policy = DeadlinePolicy::from_toml(FILE).unwrap();
        let referral = windows(&policy, MessageKind::ServiceReferral, RiskLevel::High);
        assert_eq!(referral, (Duration::minutes(30), Duration::minutes(600)));
        let transfer = windows(&policy, MessageKind::CaseTransfer, RiskLevel::Medium);
        assert_eq!(transfer, (Duration::days(1), Duration::days(2)));
        let alert = windows(&policy, MessageKind::SeparatedChildAlert, RiskLevel::Low);
        assert_eq!(alert, (Duration::minutes(15), Duration::hours(4)));
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let backwards = FILE.replace("respond_minutes = 720", "respond_minutes = 30");
        let error = DeadlinePolicy::from_toml(&backwards).unwrap_err().to_string();
        assert!(error.contains("case_transfer.high: acknowledge_minutes must be positive"), "{error}");
        let unknown = format!("{FILE}\n[referral]\nacknowledge_minutes = 1\nrespond_minutes = 2\n");
        assert!(matches!(DeadlinePolicy::from_toml(&unknown), Err(DeadlineError::Malformed(_))));
    }
}
