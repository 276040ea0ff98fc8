//! Everything the hub writes is its own: the data directory is 0700 and the
//! database, its WAL, the keys and backups 0600, whatever the umask of the
//! shell or service manager that started it (docs/security.md "Files on disk"). The
//! process mask is set first thing, so files that SQLite, the key store or a
//! backup create are private from their first byte, not chmodded afterwards.

use std::{os::unix::fs::PermissionsExt, path::Path};

use crate::CliError;

/// Owner-only permissions for the directories the hub creates.
const PRIVATE_DIR: u32 = 0o700;
/// Owner-only permissions for the files it creates.
const PRIVATE_FILE: u32 = 0o600;

/// Makes every file and directory this process creates from now on owner-only.
pub fn mask_group_and_others() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// Creates `path` (and its parents) owner-only, and tightens it if it
/// already existed more open (a data directory made by hand or by an older version).
pub fn create_dir(path: &Path) -> Result<(), CliError> {
    let failed = |source| CliError::File { path: path.display().to_string(), source };
    std::fs::create_dir_all(path).map_err(failed)?;
    restrict(path, PRIVATE_DIR).map_err(failed)
}

/// Makes the file at `path` owner-only: for copies, which take their
/// source's permissions (a restored backup).
pub fn restrict_file(path: &Path) -> Result<(), CliError> {
    restrict(path, PRIVATE_FILE).map_err(|source| CliError::File { path: path.display().to_string(), source })
}

fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if current & !mode == 0 {
        return Ok(());
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}
