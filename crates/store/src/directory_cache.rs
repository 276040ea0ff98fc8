//! Recently read organisations, so that the check every call makes of its
//! caller's organisation does not read the directory each time.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use referral_hub_domain::wire::Organisation;

/// How long another replica's directory change may take to be seen here.
pub const DIRECTORY_CACHE_TTL: Duration = Duration::from_secs(2);

/// Recently read organisations by id (including "no such organisation").
#[derive(Default)]
pub(crate) struct DirectoryCache {
    entries: Mutex<HashMap<String, (Option<Organisation>, Instant)>>,
}

impl DirectoryCache {
    /// The cached entry of `id`, unless older than [`DIRECTORY_CACHE_TTL`].
    pub(crate) fn get(&self, id: &str) -> Option<Option<Organisation>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(id).filter(|(_, at)| at.elapsed() < DIRECTORY_CACHE_TTL).map(|(org, _)| org.clone())
    }

    /// Caches what was read of `id`.
    pub(crate) fn put(&self, id: &str, org: Option<Organisation>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() > 100_000 {
            entries.clear();
        }
        entries.insert(id.to_owned(), (org, Instant::now()));
    }

    /// Drops `id`'s entry: it changed.
    pub(crate) fn forget(&self, id: &str) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }
}
