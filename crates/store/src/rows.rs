//! Column lists and row decoding shared by every query that reads messages and
//! follow-ups (aliased `m` and `f`), so each shape is written once.

use sqlx::{Row, any::AnyRow};

use referral_hub_domain::{
    timestamps::UnixMicros,
    wire::{FollowUpAction, MessageKind, MessageStatus, RiskLevel, Sector},
};

use crate::{Backend, FollowUpRecord, MessageRecord, Result, StoreError};

/// Columns of `messages m`, aliased `m_*`.
pub(crate) const MESSAGE_COLUMNS: &str = "m.id AS m_id, m.sender_org AS m_sender_org, \
    m.sender_subject AS m_sender_subject, m.recipient_org AS m_recipient_org, \
    m.request_id AS m_request_id, m.request_hash AS m_request_hash, m.kind AS m_kind, \
    m.status AS m_status, m.risk_level AS m_risk_level, m.child_link_key AS m_child_link_key, \
    m.created_at AS m_created_at, m.updated_at AS m_updated_at, \
    m.acknowledge_by AS m_acknowledge_by, m.respond_by AS m_respond_by, m.body AS m_body, \
    m.consent_id AS m_consent_id, m.legal_basis AS m_legal_basis, m.hold_reason AS m_hold_reason, \
    m.area AS m_area, m.acknowledge_overdue_at AS m_acknowledge_overdue_at, m.respond_overdue_at AS m_respond_overdue_at, \
    m.rerouted_from AS m_rerouted_from, m.sender_sector AS m_sender_sector, \
    m.recipient_sector AS m_recipient_sector, m.sex AS m_sex, m.age_band AS m_age_band, \
    m.displacement AS m_displacement, m.owner_org AS m_owner_org, \
    m.sender_view_status AS m_sender_view_status, m.re_referral_of AS m_re_referral_of, m.traceparent AS m_traceparent, \
    m.acknowledged_at AS m_acknowledged_at, m.accepted_at AS m_accepted_at, m.purged_at AS m_purged_at";

/// Columns of `follow_ups f`, aliased `f_*`.
pub(crate) const FOLLOW_UP_COLUMNS: &str = "f.id AS f_id, f.message_id AS f_message_id, \
    f.author_org AS f_author_org, f.author_subject AS f_author_subject, \
    f.request_id AS f_request_id, f.request_hash AS f_request_hash, f.action AS f_action, \
    f.status_after AS f_status_after, f.created_at AS f_created_at, f.body AS f_body, \
    f.hidden_from_sender AS f_hidden_from_sender";

impl crate::Store {
    /// A message row, its body opened.
    pub(crate) fn message_row(&self, row: &AnyRow) -> Result<MessageRecord> {
        let mut record = message(row)?;
        record.body = self.open(&record.id, std::mem::take(&mut record.body), "messages.body")?;
        Ok(record)
    }

    /// A follow-up row, its body opened.
    pub(crate) fn follow_up_row(&self, row: &AnyRow) -> Result<FollowUpRecord> {
        let mut record = follow_up(row)?;
        record.body = self.open(&record.id, std::mem::take(&mut record.body), "follow_ups.body")?;
        Ok(record)
    }
}

fn message(row: &AnyRow) -> Result<MessageRecord> {
    Ok(MessageRecord {
        id: text(row, "m_id")?,
        sender_org: text(row, "m_sender_org")?,
        sender_subject: row.try_get("m_sender_subject")?,
        recipient_org: text(row, "m_recipient_org")?,
        request_id: text(row, "m_request_id")?,
        request_hash: row.try_get("m_request_hash")?,
        kind: decode(row, "m_kind", MessageKind::from_str_name)?,
        status: decode(row, "m_status", MessageStatus::from_str_name)?,
        risk_level: decode(row, "m_risk_level", RiskLevel::from_str_name)?,
        child_link_key: row.try_get("m_child_link_key")?,
        created_at: micros(row, "m_created_at")?,
        updated_at: micros(row, "m_updated_at")?,
        acknowledge_by: micros(row, "m_acknowledge_by")?,
        respond_by: micros(row, "m_respond_by")?,
        body: row.try_get("m_body")?,
        consent_id: row.try_get("m_consent_id")?,
        legal_basis: row.try_get("m_legal_basis")?,
        hold_reason: row.try_get("m_hold_reason")?,
        area: row.try_get("m_area")?,
        acknowledge_overdue_at: optional_micros(row, "m_acknowledge_overdue_at")?,
        respond_overdue_at: optional_micros(row, "m_respond_overdue_at")?,
        rerouted_from: optional_text(row, "m_rerouted_from")?,
        sender_sector: decode_optional(row, "m_sender_sector", Sector::from_str_name)?,
        recipient_sector: decode_optional(row, "m_recipient_sector", Sector::from_str_name)?,
        sex: row.try_get("m_sex")?,
        age_band: row.try_get("m_age_band")?,
        displacement: row.try_get("m_displacement")?,
        owner_org: optional_text(row, "m_owner_org")?,
        sender_view_status: decode_optional(row, "m_sender_view_status", MessageStatus::from_str_name)?,
        re_referral_of: optional_text(row, "m_re_referral_of")?,
        traceparent: row.try_get("m_traceparent")?,
        acknowledged_at: optional_micros(row, "m_acknowledged_at")?,
        accepted_at: optional_micros(row, "m_accepted_at")?,
        purged_at: optional_micros(row, "m_purged_at")?,
    })
}

fn follow_up(row: &AnyRow) -> Result<FollowUpRecord> {
    Ok(FollowUpRecord {
        id: row.try_get("f_id")?,
        message_id: text(row, "f_message_id")?,
        author_org: text(row, "f_author_org")?,
        author_subject: row.try_get("f_author_subject")?,
        request_id: text(row, "f_request_id")?,
        request_hash: row.try_get("f_request_hash")?,
        action: decode(row, "f_action", FollowUpAction::from_str_name)?,
        status_after: decode(row, "f_status_after", MessageStatus::from_str_name)?,
        created_at: micros(row, "f_created_at")?,
        body: row.try_get("f_body")?,
        hidden_from_sender: row.try_get::<i64, _>("f_hidden_from_sender")? != 0,
    })
}

/// Decodes an enum stored by its proto value name.
pub(crate) fn decode<T>(row: &AnyRow, column: &'static str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let text: String = row.try_get(column)?;
    parse(&text).ok_or(StoreError::Corrupt { column })
}

/// Decodes an optional enum stored by its proto value name (NULL: `None`).
pub(crate) fn decode_optional<T>(
    row: &AnyRow,
    column: &'static str,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|text| parse(&text).ok_or(StoreError::Corrupt { column })).transpose()
}

/// A text column as the id type it holds (`MessageId`, `OrgId`, …).
pub(crate) fn text<T: From<String>>(row: &AnyRow, column: &str) -> Result<T> {
    Ok(row.try_get::<String, _>(column)?.into())
}

/// A nullable text column as the id type it holds.
pub(crate) fn optional_text<T: From<String>>(row: &AnyRow, column: &str) -> Result<Option<T>> {
    Ok(row.try_get::<Option<String>, _>(column)?.map(T::from))
}

/// A timestamp column: microseconds since the epoch.
pub(crate) fn micros(row: &AnyRow, column: &str) -> Result<UnixMicros> {
    Ok(UnixMicros::new(row.try_get(column)?))
}

/// A nullable timestamp column.
pub(crate) fn optional_micros(row: &AnyRow, column: &str) -> Result<Option<UnixMicros>> {
    Ok(row.try_get::<Option<i64>, _>(column)?.map(UnixMicros::new))
}

/// `$first, $first+1, …` placeholders for `count` values.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// `($first, …), (…)`: the VALUES of `rows` rows of `columns` values each.
/// SQLite gets anonymous `?` instead: it looks numbered parameters up by a
/// linear scan each, which makes binding thousands of them quadratic.
pub(crate) fn values(backend: Backend, first: usize, rows: usize, columns: usize) -> String {
    let row = |first| match backend {
        Backend::Sqlite => vec!["?"; columns].join(", "),
        Backend::Postgres => placeholders(first, columns),
    };
    (0..rows).map(|i| format!("({})", row(first + i * columns))).collect::<Vec<_>>().join(", ")
}
