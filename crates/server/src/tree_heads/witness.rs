//! The witness directory: every tree head and every leaf hash, written
//! outside the database as they are signed (docs/transparency.md
//! "Witnesses"). Whoever rewrites the database cannot reach these files, and
//! `referral-hub audit verify --against` compares the log with them.

use std::{
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
};

use referral_hub_domain::audit::{merkle::Node, tree_head::TreeHead};
use referral_hub_store::{Store, StoreError};

/// The file of leaf hashes, 32 bytes each, in leaf order.
pub const LEAF_HASHES: &str = "leaf-hashes";
/// The directory of tree heads, `<tree_size>.json` each.
pub const TREE_HEADS: &str = "tree-heads";

/// Leaf hashes read from the store per round trip.
const LEAF_BATCH: u64 = 128;

/// Why the witness could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// The directory or a file in it could not be written.
    #[error("witness directory {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: io::Error,
    },
    /// The leaf hashes could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store's tree lacks a leaf the head covers.
    #[error("the audit tree lacks leaf {0}")]
    MissingLeaf(u64),
}

/// A witness directory.
#[derive(Debug, Clone)]
pub struct Witness {
    dir: PathBuf,
}

impl Witness {
    /// Writes to `dir` (created if absent).
    pub fn new(dir: PathBuf) -> Witness {
        Witness { dir }
    }

    /// Appends the leaf hashes the witness lacks up to `head`, then writes
    /// `head` itself: a head is never on disk before the leaves it covers.
    pub async fn record(&self, store: &Store, head: &TreeHead) -> Result<(), WitnessError> {
        let heads = self.dir.join(TREE_HEADS);
        fs::create_dir_all(&heads).map_err(io_error(&heads))?;
        let leaves_path = self.dir.join(LEAF_HASHES);
        let held = fs::metadata(&leaves_path).map(|m| m.len() / 32).unwrap_or(0);
        let mut leaves =
            fs::OpenOptions::new().create(true).append(true).open(&leaves_path).map_err(io_error(&leaves_path))?;
        // A torn last write (a crash mid-hash) is cut back to whole hashes.
        leaves.set_len(held * 32).map_err(io_error(&leaves_path))?;
        let mut next = held;
        while next < head.size {
            let wanted: Vec<Node> =
                (next..head.size.min(next + LEAF_BATCH)).map(|index| Node { level: 0, index }).collect();
            let found = store.tree_nodes(&wanted).await?;
            for node in &wanted {
                let hash = found.get(node).ok_or(WitnessError::MissingLeaf(node.index))?;
                leaves.write_all(hash).map_err(io_error(&leaves_path))?;
            }
            next += wanted.len() as u64;
        }
        leaves.sync_all().map_err(io_error(&leaves_path))?;
        let path = heads.join(format!("{}.json", head.size));
        let staged = heads.join(format!("{}.json.new", head.size));
        let text = serde_json::to_vec_pretty(&super::json::tree_head(&head.into())).unwrap_or_default();
        fs::write(&staged, text).map_err(io_error(&staged))?;
        fs::rename(&staged, &path).map_err(io_error(&path))
    }
}

/// The leaf hashes a witness directory holds, in order.
pub fn read_leaf_hashes(dir: &Path) -> io::Result<Vec<[u8; 32]>> {
    let bytes = fs::read(dir.join(LEAF_HASHES))?;
    Ok(bytes.chunks_exact(32).filter_map(|chunk| chunk.try_into().ok()).collect())
}

fn io_error(path: &Path) -> impl Fn(io::Error) -> WitnessError + '_ {
    move |source| WitnessError::Io { path: path.display().to_string(), source }
}
