//! Signs the audit log's tree heads on schedule and hands each one out
//! (docs/transparency.md): the tree is brought up to the log, its root
//! signed with the hub's key, the head stored, audited and put in every
//! active organisation's inbox in one transaction, then written to the
//! witness directory. When a head is due is
//! `referral_hub_domain::audit::tree_head::TreeHeadSchedule`.

pub mod against;
pub mod json;
pub mod signatures;
pub mod witness;

use std::{path::PathBuf, sync::Arc};

use axum::response::IntoResponse as _;

use referral_hub_domain::{
    audit::{
        Action, Entry, Outcome, Severity, hex,
        tree_head::{LastHead, TreeHead, TreeHeadSchedule},
    },
    timestamps::UnixMicros,
};

use crate::{
    error::ApiError,
    hub::{Hub, detail},
    keys::{HubKey, KeyError},
    scheduler::SchedulerControl,
};
use witness::Witness;

/// Where the API listener serves every audit signing key as a JWK set,
/// without a token.
pub const KEYS_PATH: &str = "/.well-known/audit-keys.json";

/// The route of [`KEYS_PATH`].
pub(crate) fn routes(hub: Arc<Hub>) -> axum::Router {
    axum::Router::new().route(
        KEYS_PATH,
        axum::routing::get(move || async move {
            match hub.store.signing_keys().await {
                Ok(keys) => {
                    let body = json::key_set(&keys).to_string();
                    ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
                }
                Err(error) => {
                    tracing::warn!(%error, "reading the audit signing keys failed");
                    axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response()
                }
            }
        }),
    )
}

/// How tree heads are signed and where they go besides the inboxes.
pub struct TreeHeadSettings {
    /// When a head is due.
    pub schedule: TreeHeadSchedule,
    /// How often the task looks whether one is due (tests tick it).
    pub control: Arc<SchedulerControl>,
    /// Reads the hub's current signing key (re-read each time, so a rotated
    /// key signs the next head).
    pub signing_key: Box<dyn Fn() -> Result<HubKey, KeyError> + Send + Sync>,
    /// The witness directory (`--witness-dir`), outside the database.
    pub witness_dir: Option<PathBuf>,
}

/// Why no head was signed this pass.
#[derive(Debug, thiserror::Error)]
enum SigningError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Signs heads until the hub stops.
pub(crate) async fn run(hub: Arc<Hub>, settings: TreeHeadSettings) {
    let witness = settings.witness_dir.clone().map(Witness::new);
    let last = match hub.store.tree_head(None).await {
        Ok(Some(head)) => LastHead { size: head.size, at: head.at, settled: head.size + 1 },
        // The first head comes a full interval (or enough entries) after start.
        Ok(None) => LastHead { size: 0, at: UnixMicros::of(hub.clock.now()).get(), settled: 0 },
        Err(error) => {
            tracing::error!(%error, "reading the latest tree head failed; no tree heads will be signed");
            return;
        }
    };
    let last = tokio::sync::Mutex::new(last);
    settings
        .control
        .run(&hub.shutdown, || async {
            let mut last = last.lock().await;
            match sign_if_due(&hub, &settings, *last).await {
                Ok(Some((head, settled))) => {
                    *last = LastHead { size: head.size, at: head.at, settled };
                    hub.metrics.tree_head_signed();
                    tracing::info!(tree_size = head.size, "audit tree head signed");
                    if let Some(witness) = &witness
                        && let Err(error) = witness.record(&hub.store, &head).await
                    {
                        tracing::error!(%error, tree_size = head.size, "the witness did not take the tree head");
                    }
                }
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "signing a tree head failed; retrying at the next tick"),
            }
        })
        .await
}

/// Signs and publishes a head if one is due; returns it with the log's size
/// once its own audit entry is written.
async fn sign_if_due(
    hub: &Hub,
    settings: &TreeHeadSettings,
    last: LastHead,
) -> Result<Option<(TreeHead, u64)>, SigningError> {
    let now = UnixMicros::of(hub.clock.now());
    let (size, _) = hub.store.audit_head().await.map_err(ApiError::from)?;
    if !settings.schedule.due(last, size, now.get()) {
        return Ok(None);
    }
    let tree = hub.store.extend_audit_tree().await.map_err(ApiError::from)?;
    if tree.size() <= last.size {
        return Ok(None);
    }
    let key = (settings.signing_key)()?;
    let mut head =
        TreeHead { size: tree.size(), root: tree.root(), at: now.get(), kid: key.kid().into(), signature: vec![] };
    head.signature = key.sign(&head.message());
    let audit = Entry::new(now, Action::TreeHeadSigned, Outcome::Success, Severity::Info)
        .by("", "referral-hub", String::new())
        .with_detail(detail(&[
            ("tree_size", head.size.into()),
            ("root_hash", hex(&head.root).into()),
            ("key_id", head.kid.clone().into()),
        ]));
    match hub.store.publish_tree_head(&head, key.public_key(), audit).await.map_err(ApiError::from)? {
        Some(settled) => Ok(Some((head, settled))),
        // Another replica signed this size first; its head is the one handed out.
        None => Ok(None),
    }
}
