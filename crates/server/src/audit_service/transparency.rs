//! The transparency side of `AuditService` (docs/transparency.md): signed
//! tree heads, inclusion and consistency proofs, and the signing keys. A
//! proof is hashes only; an inclusion proof also returns its entry, and
//! only to an organisation the entry concerns (or oversight). Every call is
//! audited like any other read of the audit log.

use tonic::Request;

use referral_hub_domain::{
    audit::{Action, Outcome, Severity, tree_head::TreeHead},
    roles::Role,
    wire::{
        AuditSigningKey, GetConsistencyProofRequest, GetConsistencyProofResponse, GetInclusionProofRequest,
        GetInclusionProofResponse, GetTreeHeadRequest, GetTreeHeadResponse, ListSigningKeysResponse, SignedTreeHead,
    },
};

use super::{AuditReach, reach, wire_entry};
use crate::{
    auth::Caller,
    error::ApiError,
    hub::{Hub, detail},
};

/// Who may fetch tree heads, proofs and keys: whoever checks the log.
const CHECKERS: [Role; 3] = [Role::Auditor, Role::Oversight, Role::Admin];

/// `GetTreeHead`.
pub(super) async fn tree_head(
    hub: &Hub,
    request: Request<GetTreeHeadRequest>,
) -> Result<GetTreeHeadResponse, ApiError> {
    let caller = hub.caller(&request, &CHECKERS).await?;
    let size = request.into_inner().tree_size;
    audit_read(hub, &caller, "GetTreeHead", &[("tree_size", size.into())]).await?;
    let head = signed(hub, size).await?;
    Ok(GetTreeHeadResponse { tree_head: Some(SignedTreeHead::from(&head)) })
}

/// `GetInclusionProof`.
pub(super) async fn inclusion(
    hub: &Hub,
    request: Request<GetInclusionProofRequest>,
) -> Result<GetInclusionProofResponse, ApiError> {
    let caller = hub.caller(&request, &CHECKERS).await?;
    let GetInclusionProofRequest { seq, tree_size } = request.into_inner();
    audit_read(hub, &caller, "GetInclusionProof", &[("seq", seq.into()), ("tree_size", tree_size.into())]).await?;
    let found = match reach(&caller) {
        AuditReach::Everything => hub.store.audit_entry(seq).await?,
        AuditReach::Concerning(org) => hub.store.audit_entry_concerning(seq, &org).await?,
    };
    // An entry that does not concern the caller is as absent as one that does not exist.
    let entry = found.ok_or(ApiError::NotFound("audit entry"))?;
    let head = signed(hub, tree_size).await?;
    if seq > head.size {
        return Err(not_in_tree(format!(
            "entry {seq} is not in the tree of {} entries; ask for a later tree head",
            head.size
        )));
    }
    let path = hub.store.inclusion_proof(seq, head.size).await?.ok_or(ApiError::Aborted)?;
    Ok(GetInclusionProofResponse {
        entry: Some(wire_entry(&entry)),
        leaf_index: seq - 1,
        tree_head: Some(SignedTreeHead::from(&head)),
        path: path.iter().map(|hash| hash.to_vec()).collect(),
    })
}

/// `GetConsistencyProof`.
pub(super) async fn consistency(
    hub: &Hub,
    request: Request<GetConsistencyProofRequest>,
) -> Result<GetConsistencyProofResponse, ApiError> {
    let caller = hub.caller(&request, &CHECKERS).await?;
    let GetConsistencyProofRequest { first_size, second_size } = request.into_inner();
    let sizes = [("first_size", first_size.into()), ("second_size", second_size.into())];
    audit_read(hub, &caller, "GetConsistencyProof", &sizes).await?;
    if first_size == 0 {
        return Err(not_in_tree("first_size must name a signed tree head".into()));
    }
    let (first, second) = (signed(hub, first_size).await?, signed(hub, second_size).await?);
    if first.size > second.size {
        return Err(not_in_tree(format!("tree head {} is later than tree head {}", first.size, second.size)));
    }
    let path = hub.store.consistency_proof(first.size, second.size).await?.ok_or(ApiError::Aborted)?;
    Ok(GetConsistencyProofResponse {
        first: Some(SignedTreeHead::from(&first)),
        second: Some(SignedTreeHead::from(&second)),
        path: path.iter().map(|hash| hash.to_vec()).collect(),
    })
}

/// `ListSigningKeys`.
pub(super) async fn signing_keys<T>(hub: &Hub, request: Request<T>) -> Result<ListSigningKeysResponse, ApiError> {
    let caller = hub.caller(&request, &CHECKERS).await?;
    audit_read(hub, &caller, "ListSigningKeys", &[]).await?;
    let keys = hub.store.signing_keys().await?;
    Ok(ListSigningKeysResponse {
        keys: keys
            .into_iter()
            .map(|key| AuditSigningKey {
                key_id: key.kid,
                public_key: key.public_key,
                valid_from_micros: key.valid_from,
                valid_until_micros: key.valid_until.unwrap_or(0),
            })
            .collect(),
    })
}

/// The signed tree head of `size` entries (0: the latest).
async fn signed(hub: &Hub, size: u64) -> Result<TreeHead, ApiError> {
    match hub.store.tree_head(Some(size).filter(|s| *s != 0)).await? {
        Some(head) => Ok(head),
        None if size == 0 => Err(not_in_tree("no tree head has been signed yet".into())),
        None => Err(not_in_tree(format!("no tree head of {size} entries was signed"))),
    }
}

fn not_in_tree(description: String) -> ApiError {
    ApiError::FailedPrecondition { kind: "NO_SUCH_TREE_HEAD", subject: String::new(), description }
}

/// Records the read (`AUDIT_QUERIED`) before answering it.
async fn audit_read(
    hub: &Hub,
    caller: &Caller,
    rpc: &str,
    fields: &[(&str, serde_json::Value)],
) -> Result<(), ApiError> {
    let mut all = vec![("rpc", rpc.into())];
    all.extend(fields.iter().cloned());
    let entry = hub.entry(caller, Action::AuditQueried, Outcome::Success, Severity::Info).with_detail(detail(&all));
    hub.store.audit(vec![entry]).await?;
    Ok(())
}
