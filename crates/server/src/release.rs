//! The one door through which stored messages leave the hub: every read,
//! list and stream goes through [`Hub::release`], which turns records into
//! what this reader may see and audits the release before anything is sent
//! (if the audit append fails, nothing leaves).

use referral_hub_domain::{
    audit::{Action, Entry, Outcome, Severity, child_key_hash},
    wire::Message,
};
use referral_hub_store::MessageRecord;

use crate::{auth::Caller, convert, error::ApiError, hub::Hub};

impl Hub {
    /// The messages as `reader` may see them, audited as `action`
    /// (`MESSAGE_READ` for reads, `DELIVERY_ATTEMPTED` for inbox streams).
    pub async fn release(
        &self,
        reader: &Caller,
        records: &[MessageRecord],
        action: Action,
    ) -> Result<Vec<Message>, ApiError> {
        let messages = records.iter().map(convert::message).collect::<Result<Vec<_>, _>>()?;
        let entries = records
            .iter()
            .map(|r| self.message_entry(reader, action, Outcome::Success, Severity::Info, r))
            .collect();
        self.store.audit(entries).await?;
        Ok(messages)
    }

    /// An audit entry by `caller` about the message `record`.
    pub fn message_entry(
        &self,
        caller: &Caller,
        action: Action,
        outcome: Outcome,
        severity: Severity,
        record: &MessageRecord,
    ) -> Entry {
        Entry {
            message_id: record.id.clone(),
            message_kind: record.kind.as_str_name().into(),
            child_key_hash: record.child_link_key.as_deref().map(child_key_hash).unwrap_or_default(),
            ..self.entry(caller, action, outcome, severity)
        }
    }
}
