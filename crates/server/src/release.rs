//! The one door through which stored messages leave the hub. Every read, list
//! and stream goes through [`Hub::release`], which runs the consent decision
//! again for the receiver (consent may have expired or been withdrawn since
//! submit), cuts the payload to what that receiver may see, and audits the
//! release, categories and all, before anything is sent: if the audit append
//! fails, nothing leaves.

use std::collections::BTreeSet;

use referral_hub_domain::{
    audit::{Action, Entry, Outcome, Severity, child_key_hash},
    consent::{ALL_CATEGORIES, Decision, cut_payload, present_categories},
    ids::OrgId,
    lifecycle::short_name,
    wire::{ChildRef, ConsentRecord, ConsentRefusal, DataCategory, Message, MessageWithheld, Organisation},
};
use referral_hub_store::MessageRecord;

use crate::{
    auth::Caller,
    consents::purpose_of,
    convert,
    error::{ApiError, refusal_names},
    hub::{Hub, detail},
};

/// A message as one reader gets it.
pub struct Released {
    /// What a read shows: cut to what the reader may see (the sender sees it
    /// whole); when withheld, the envelope only, without child or payload.
    pub message: Message,
    /// Set when consent does not allow this receiver the message now.
    pub withheld: Option<MessageWithheld>,
}

impl Hub {
    /// The messages as `reader` may see them, audited as `action`
    /// (`MESSAGE_READ` for reads, `DELIVERY_ATTEMPTED` for inbox streams;
    /// a stream refused by consent is audited as `DELIVERY_REFUSED`).
    pub async fn release(
        &self,
        reader: &Caller,
        records: &[MessageRecord],
        action: Action,
    ) -> Result<Vec<Released>, ApiError> {
        let mut released = Vec::with_capacity(records.len());
        let mut entries = Vec::with_capacity(records.len());
        let messages = records.iter().map(convert::message).collect::<Result<Vec<_>, _>>()?;
        let mut consents = self.consents_to_recheck(reader, records, &messages).await?.into_iter();
        for (record, mut message) in records.iter().zip(messages) {
            if record.sender_org == reader.org {
                // The original sender of a transferred case sees the state it was last told of.
                if let Some(status) = record.sender_view_status {
                    message.status = status as i32;
                }
                entries.push(self.release_entry(reader, action, Outcome::Success, record));
                released.push(Released { message, withheld: None });
                continue;
            }
            let consents = if record.legal_basis.is_none() { consents.next().unwrap_or_default() } else { vec![] };
            match self.permitted_for(reader, record, &consents) {
                Ok(permitted) => {
                    let allowed: BTreeSet<_> =
                        permitted.intersection(&self.rules.consent.needs(reader.sector)).copied().collect();
                    let mut entry = self.release_entry(reader, action, Outcome::Success, record);
                    if let Some(payload) = &message.payload {
                        let cut = cut_payload(payload, &allowed);
                        entry.detail = detail(&[
                            ("disclosed", names(&cut.disclosed).into()),
                            ("withheld", names(&cut.withheld).into()),
                        ]);
                        message.withheld_categories = cut.withheld.iter().map(|c| *c as i32).collect();
                        message.payload = Some(cut.payload);
                    }
                    entries.push(entry);
                    released.push(Released { message, withheld: None });
                }
                Err(reasons) => {
                    for reason in &reasons {
                        self.metrics.consent_refusal(short_name(reason.as_str_name(), "CONSENT_REFUSAL_"));
                    }
                    let refused_action =
                        if action == Action::DeliveryAttempted { Action::DeliveryRefused } else { action };
                    let entry = self.release_entry(reader, refused_action, Outcome::Refused, record);
                    entries.push(entry.with_detail(detail(&[("refusals", refusal_names(&reasons).into())])));
                    let withheld = MessageWithheld {
                        message_id: record.id.to_string(),
                        reasons: reasons.iter().map(|r| *r as i32).collect(),
                    };
                    released.push(Released { message: strip(message), withheld: Some(withheld) });
                }
            }
        }
        self.store.audit(entries).await?;
        Ok(released)
    }

    /// The consent records of every message's child that [`Hub::release`]
    /// must check again (not sent by the reader, not under a legal basis), in
    /// order, loaded in one query.
    async fn consents_to_recheck(
        &self,
        reader: &Caller,
        records: &[MessageRecord],
        messages: &[Message],
    ) -> Result<Vec<Vec<ConsentRecord>>, ApiError> {
        let no_child = ChildRef::default();
        let children: Vec<(&OrgId, &ChildRef)> = records
            .iter()
            .zip(messages)
            .filter(|(record, _)| record.sender_org != reader.org && record.legal_basis.is_none())
            .map(|(record, message)| (&record.sender_org, message.child.as_ref().unwrap_or(&no_child)))
            .collect();
        self.children_records(&children).await
    }

    /// The categories the consent decision (or the override) permits for this
    /// receiver now over the child's `consents`, or why it may not have the
    /// message at all.
    fn permitted_for(
        &self,
        reader: &Caller,
        record: &MessageRecord,
        consents: &[ConsentRecord],
    ) -> Result<BTreeSet<DataCategory>, Vec<ConsentRefusal>> {
        if record.legal_basis.is_some() {
            return Ok(ALL_CATEGORIES.into_iter().collect());
        }
        let receiver =
            Organisation { id: reader.org.to_string(), sector: reader.sector as i32, ..Organisation::default() };
        match self.decide_over(consents, None, &receiver, purpose_of(record.kind)) {
            Decision::Permitted { categories, .. } => Ok(categories),
            Decision::Refused(reasons) => Err(reasons.into_iter().collect()),
        }
    }

    /// A release's audit entry: a refusal is worth a look, a release is routine.
    fn release_entry(&self, reader: &Caller, action: Action, outcome: Outcome, record: &MessageRecord) -> Entry {
        let severity = if outcome == Outcome::Refused { Severity::Warning } else { Severity::Info };
        Entry {
            purpose: purpose_of(record.kind).as_str_name().into(),
            consent_id: record.consent_id.clone().unwrap_or_default(),
            legal_basis: record.legal_basis.clone().unwrap_or_default(),
            ..self.message_entry(reader, action, outcome, severity, record)
        }
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
        self.entry(caller, action, outcome, severity)
            .about(&record.id, record.kind.as_str_name())
            .child(record.child_link_key.as_deref().map(child_key_hash).unwrap_or_default())
    }
}

/// The envelope of a message without the child or the payload, listing what was withheld.
fn strip(mut message: Message) -> Message {
    if let Some(payload) = &message.payload {
        message.withheld_categories = present_categories(payload).iter().map(|c| *c as i32).collect();
    }
    message.payload = None;
    message.child = None;
    message
}

fn names(categories: &BTreeSet<DataCategory>) -> Vec<String> {
    categories.iter().map(|c| c.as_str_name().trim_start_matches("DATA_CATEGORY_").to_owned()).collect()
}
