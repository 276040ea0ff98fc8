//! On PostgreSQL, a group of submissions and audit appends written as one
//! statement: one round trip to the server instead of nine (`BEGIN`, the
//! chain head's lock, consent records, messages, concerns, inbox counters,
//! inbox entries, audit entries, `COMMIT`). A statement sent outside a
//! transaction is its own transaction, committed (and, with
//! `synchronous_commit=on`, flushed) before the server answers.
//!
//! Without the head's lock the committer chains the group's audit entries
//! after the head it saw last (its own last commit), and the statement moves
//! the head only if it is still there: a compare-and-set in the same
//! statement, which every insert waits on. If another writer (another replica,
//! or a follow-up on this one) moved it meanwhile, the statement writes
//! nothing and the group takes the locked path, which reads the head afresh.
//! The head's `UPDATE` runs before any other write of the statement, so it is
//! still the first row lock taken, as every appending transaction must.
//!
//! The rows travel as one JSON parameter per table (arrays of column values,
//! bytes in hexadecimal), so the statement has one text, prepared once per
//! connection, whatever the group's size. They are read as `jsonb`, parsed
//! once: `json` is parsed again by every `->>`, and with 27 columns and a
//! payload in each row that made the statement take twice as long.

use std::time::Instant;

use sqlx::{AnyConnection, Row};

use super::jobs::{Job, Submission, settle};
use crate::{
    Result, Store,
    audit::{self, ChainHead},
    consent::{CONSENT_COLUMNS, CONSENT_TYPES},
    messages::{MESSAGE_INSERT, MESSAGE_INSERT_COLUMNS, concern_rows},
    multi_row::{Column, Value},
    notify::INBOX_CHANNEL,
};

/// What became of a group offered to the one statement.
pub(crate) enum Sent {
    /// Written, every job of it, and its jobs settled.
    Written,
    /// Nothing written: the group takes the locked path.
    Declined,
}

/// The one-statement path of a PostgreSQL committer, and what it knows of
/// the chain head.
pub(crate) struct OneStatement {
    /// The statement's text (it names this replica in its notifications).
    sql: String,
    /// The chain head as this committer last committed it; `None` until the
    /// first commit, and whenever a statement failed.
    pub(crate) head: Option<ChainHead>,
}

impl OneStatement {
    /// The statement for `store`'s replica; the head is not known yet.
    pub(crate) fn new(store: &Store) -> OneStatement {
        OneStatement { sql: statement(store.shared.notifier.replica()), head: None }
    }

    /// Writes `jobs` in one statement, if it can: [`Sent::Declined`] (nothing
    /// written) if the head is not known, another writer moved it, or the
    /// group holds acknowledgements (committed in groups of their own; each
    /// is an `UPDATE` of messages, which this statement does not make). `Err`
    /// if the statement failed and wrote nothing, most often a retry that a
    /// concurrent one beat to it.
    pub(crate) async fn write(&mut self, store: &Store, writer: &mut AnyConnection, jobs: &mut [Job]) -> Result<Sent> {
        let Some(before) = self.head.take() else { return Ok(Sent::Declined) };
        if jobs.iter().any(Job::is_ack) {
            self.head = Some(before);
            return Ok(Sent::Declined);
        }
        let started = Instant::now();
        let submissions: Vec<&Submission> = jobs.iter().filter_map(Job::submission).collect();
        let consents = json(submissions.iter().filter_map(|s| s.consent.as_ref()).map(|c| store.consent_values(c)))?;
        let messages = json(submissions.iter().map(|s| store.message_values(&s.message)))?;
        let concerns =
            json(concern_rows(&submissions).map(|(id, concern)| [Value::Text(Some(id)), Value::Text(Some(concern))]))?;
        let mut after = before;
        let chained = after.chain(jobs.iter_mut().flat_map(|job| job.audit_mut().iter_mut()));
        let entries = chained.len();
        let audit = json(chained.iter().map(|c| c.values()))?;
        let ((after_seq, after_hash), (before_seq, before_hash)) = (after.row(), before.row());
        let row = sqlx::query(&self.sql)
            .bind(consents)
            .bind(messages)
            .bind(concerns)
            .bind(audit)
            .bind(after_seq)
            .bind(after_hash)
            .bind(before_seq)
            .bind(before_hash)
            .fetch_one(writer)
            .await?;
        if row.try_get::<i64, _>(0)? == 0 {
            return Ok(Sent::Declined);
        }
        self.head = Some(after);
        store.shared.audit_timing.record(entries, started.elapsed());
        settle(jobs, before.seq());
        Ok(Sent::Written)
    }
}

/// `rows` as a JSON array of arrays.
fn json<R: serde::Serialize>(rows: impl Iterator<Item = R>) -> Result<String> {
    Ok(serde_json::to_string(&rows.collect::<Vec<R>>())?)
}

/// The group statement (see the module documentation). Parameters: the JSON
/// rows of `$1` consent records, `$2` messages, `$3` concerns and `$4` audit
/// entries; the head after (`$5`, `$6`) and before (`$7`, `$8`). Answers how
/// many heads it moved (0 or 1).
fn statement(replica: &str) -> String {
    let rows = |name: &str, parameter: usize, columns: &str, types: &[Column]| {
        format!(
            "{name} AS (SELECT {}, ord FROM jsonb_array_elements(${parameter}::jsonb) WITH ORDINALITY AS r (v, ord))",
            json_columns(columns, types)
        )
    };
    let insert = |table: &str, columns: &str, rows: &str| {
        format!("INSERT INTO {table} ({columns}) SELECT {columns} FROM {rows} WHERE EXISTS (SELECT FROM head)")
    };
    [
        "WITH head AS (UPDATE audit_head SET seq = $5, hash = $6 WHERE id = 1 AND seq = $7 AND hash = $8 RETURNING id)"
            .to_owned(),
        rows("new_consents", 1, CONSENT_COLUMNS, CONSENT_TYPES),
        rows("new_messages", 2, MESSAGE_INSERT_COLUMNS, MESSAGE_INSERT),
        rows("new_concerns", 3, "message_id, concern", &[Column::Text, Column::Text]),
        rows("new_audit", 4, audit::COLUMNS, audit::COLUMN_TYPES),
        format!("consents AS ({})", insert("consent_records", CONSENT_COLUMNS, "new_consents")),
        format!("messages AS ({})", insert("messages", MESSAGE_INSERT_COLUMNS, "new_messages")),
        format!("concerns AS ({} ON CONFLICT DO NOTHING)", insert("message_concerns", "message_id, concern", "new_concerns")),
        // Each inbox's counter moves once by its count of new entries, as in
        // `Store::append_inbox`; the entries take the positions up to it in
        // job order.
        "counters AS (INSERT INTO inboxes (org_id, last_position, acked_position) \
         SELECT recipient_org, count(*), 0 FROM new_messages WHERE EXISTS (SELECT FROM head) GROUP BY recipient_org \
         ON CONFLICT (org_id) DO UPDATE SET last_position = inboxes.last_position + excluded.last_position \
         RETURNING org_id, last_position)"
            .to_owned(),
        "entries AS (INSERT INTO inbox_entries (org_id, position, message_id, follow_up_id, created_at) \
         SELECT m.recipient_org, c.last_position - count(*) OVER inbox + row_number() OVER (inbox ORDER BY m.ord), \
         m.id, NULL, m.created_at FROM new_messages m JOIN counters c ON c.org_id = m.recipient_org \
         WINDOW inbox AS (PARTITION BY m.recipient_org) RETURNING org_id)"
            .to_owned(),
        format!("audit AS ({})", insert("audit_log", audit::COLUMNS, "new_audit")),
    ]
    .join(", ")
        // Other replicas' streams are told at commit, as in `Store::append_inbox`.
        + &format!(
            " SELECT (SELECT count(*) FROM head), (SELECT count(*) FROM \
             (SELECT pg_notify('{INBOX_CHANNEL}', '{replica} ' || org_id) FROM (SELECT DISTINCT org_id FROM entries) AS o) AS n)"
        )
}

/// `v->>0 AS id, decode(v->>5, 'hex') AS request_hash, (v->>10)::bigint AS
/// created_at, …`: the named columns of a JSON array row `v`.
fn json_columns(columns: &str, types: &[Column]) -> String {
    columns
        .split(',')
        .map(str::trim)
        .zip(types)
        .enumerate()
        .map(|(i, (name, column))| match column {
            Column::Text => format!("v->>{i} AS {name}"),
            Column::Integer => format!("(v->>{i})::bigint AS {name}"),
            Column::Bytes => format!("decode(v->>{i}, 'hex') AS {name}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_names_as_many_columns_as_it_types() {
        for (columns, types) in [
            (CONSENT_COLUMNS, CONSENT_TYPES),
            (MESSAGE_INSERT_COLUMNS, MESSAGE_INSERT),
            (audit::COLUMNS, audit::COLUMN_TYPES),
        ] {
            assert_eq!(columns.split(',').count(), types.len(), "{columns}");
        }
    }

    #[test]
    fn json_columns_are_read_by_position_and_named() {
        assert_eq!(
            json_columns("id, seq,\n body", &[Column::Text, Column::Integer, Column::Bytes]),
            "v->>0 AS id, (v->>1)::bigint AS seq, decode(v->>2, 'hex') AS body"
        );
    }

    #[test]
    fn rows_are_json_arrays_with_bytes_in_hex() {
        let row = [Value::Text(Some("a\"b")), Value::Text(None), Value::Integer(-7), Value::Bytes(vec![0, 255].into())];
        assert_eq!(json(std::iter::once(row)).unwrap(), r#"[["a\"b",null,-7,"00ff"]]"#);
    }
}
