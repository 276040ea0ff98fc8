//! The jobs callers queue to the group committer. Each carries the reply
//! channel of the answer its caller waits for, so that a caller receives
//! exactly its own kind of result.
//!
//! A leaf: the tables' writers take these jobs' data, and the committer
//! hands it to them.

use tokio::sync::oneshot;

use referral_hub_domain::{audit::Entry, ids::OrgId, timestamps::UnixMicros};

use crate::{ConsentRow, MessageRecord, Result};

/// Where a job's committed result goes.
pub(crate) type Reply<T> = oneshot::Sender<Result<T>>;

/// One unit of work for the committer.
pub(crate) enum Job {
    /// Store a message; answered with the stored message.
    Message(Box<Submission>, Reply<MessageRecord>),
    /// Append audit entries; answered with the sequence number of the last.
    Audit(AuditAppend, Reply<u64>),
    /// Acknowledge an inbox; answered with the cursor after it.
    Ack(Box<InboxAck>, Reply<u64>),
}

/// One message to store, with what it brings along.
pub(crate) struct Submission {
    pub message: MessageRecord,
    pub consent: Option<ConsentRow>,
    /// Protection concern codes, for statistics.
    pub concerns: Vec<String>,
    pub audit: Vec<Entry>,
}

/// Audit entries appended on their own (refusals, reads, deliveries).
pub(crate) struct AuditAppend {
    pub entries: Vec<Entry>,
    /// Once written: the sequence number of the last entry, or, if there is
    /// none, of the last entry written before it.
    pub seq: u64,
}

/// An inbox acknowledgement waiting for the group committer.
pub(crate) struct InboxAck {
    /// The acknowledging organisation.
    pub org: OrgId,
    /// The position acknowledged.
    pub position: u64,
    /// When.
    pub at: UnixMicros,
    /// The audit entry each delivered message gets, with its id filled in.
    pub template: Entry,
    /// The entries for the messages this acknowledgement delivered.
    pub audit: Vec<Entry>,
    /// The cursor after the acknowledgement's last step.
    pub cursor: u64,
}

impl InboxAck {
    /// Whether the cursor has reached the acknowledged position.
    pub(crate) fn finished(&self) -> bool {
        self.cursor >= self.position
    }
}

impl Job {
    /// The message the job stores, if it stores one.
    pub(crate) fn submission(&self) -> Option<&Submission> {
        match self {
            Job::Message(submission, _) => Some(submission),
            Job::Audit(..) | Job::Ack(..) => None,
        }
    }

    /// Whether the job is an inbox acknowledgement.
    pub(crate) fn is_ack(&self) -> bool {
        matches!(self, Job::Ack(..))
    }

    /// The audit entries the job appends.
    pub(crate) fn audit_mut(&mut self) -> &mut Vec<Entry> {
        match self {
            Job::Message(submission, _) => &mut submission.audit,
            Job::Audit(append, _) => &mut append.entries,
            Job::Ack(ack, _) => &mut ack.audit,
        }
    }

    /// Sends the caller its answer: `result` is whether the job was written.
    pub(crate) fn answer(self, result: Result<()>) {
        // A caller that stopped waiting has no use for the answer.
        match self {
            Job::Message(submission, reply) => {
                let message = submission.message;
                let _ = reply.send(result.map(|()| message));
            }
            Job::Audit(append, reply) => {
                let _ = reply.send(result.map(|()| append.seq));
            }
            Job::Ack(ack, reply) => {
                let _ = reply.send(result.map(|()| ack.cursor));
            }
        }
    }
}

/// Records what written `jobs` answer that they do not hold yet: each audit
/// append's last sequence number. `seq` is the chain head's sequence number
/// before the jobs' audit entries were appended.
pub(crate) fn settle(jobs: &mut [Job], mut seq: u64) {
    for job in jobs {
        seq = job.audit_mut().last().map_or(seq, |entry| entry.seq);
        if let Job::Audit(append, _) = job {
            append.seq = seq;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(seqs: &[u64]) -> Vec<Entry> {
        seqs.iter().map(|&seq| Entry { seq, ..Entry::default() }).collect()
    }

    fn ack(audit: Vec<Entry>, cursor: u64) -> Box<InboxAck> {
        Box::new(InboxAck {
            org: "org".into(),
            position: 9,
            at: UnixMicros::new(0),
            template: Entry::default(),
            audit,
            cursor,
        })
    }

    #[test]
    fn an_audit_append_answers_its_last_entry_or_the_one_before_it() {
        let (first, mut first_answer) = oneshot::channel();
        let (empty, mut empty_answer) = oneshot::channel();
        let (acked, mut ack_answer) = oneshot::channel();
        let mut jobs = [
            Job::Audit(AuditAppend { entries: entries(&[11, 12]), seq: 0 }, first),
            Job::Ack(ack(entries(&[13]), 7), acked),
            Job::Audit(AuditAppend { entries: vec![], seq: 0 }, empty),
        ];
        settle(&mut jobs, 10);
        for job in jobs {
            job.answer(Ok(()));
        }
        assert_eq!(first_answer.try_recv().unwrap().unwrap(), 12);
        assert_eq!(ack_answer.try_recv().unwrap().unwrap(), 7, "an acknowledgement answers its cursor");
        assert_eq!(empty_answer.try_recv().unwrap().unwrap(), 13);
    }

    #[test]
    fn a_failed_job_answers_its_error() {
        let (reply, mut answer) = oneshot::channel();
        Job::Ack(ack(vec![], 9), reply).answer(Err(crate::StoreError::Conflict));
        assert!(matches!(answer.try_recv().unwrap(), Err(crate::StoreError::Conflict)));
        assert!(ack(vec![], 9).finished() && !ack(vec![], 8).finished());
    }
}
