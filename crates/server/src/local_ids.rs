//! Children's local case ids at rest: consent records are found by the
//! child's id in the recording organisation, by equality only, so the store
//! keeps a keyed hash of it (`domain::link_key::local_id_key`) instead of the
//! agency's case number. This pass keys the rows written before that, at
//! start and before serving (a lookup finds only keyed rows); rows written
//! since are keyed when written (`Hub::consent_row`).

use referral_hub_domain::link_key::local_id_key;
use referral_hub_store::{Store, StoreError};

/// Rows keyed per round trip.
const BATCH: u32 = 500;

/// Keys every consent record's local id still stored as sent; how many it keyed.
pub async fn key_stored_local_ids(store: &Store, secret: &[u8]) -> Result<usize, StoreError> {
    let mut keyed = 0;
    loop {
        let rows = store.unkeyed_local_ids(BATCH).await?;
        if rows.is_empty() {
            return Ok(keyed);
        }
        for (id, org, plain) in &rows {
            store.key_local_id(id, plain, &local_id_key(secret, org, plain)).await?;
        }
        keyed += rows.len();
    }
}
