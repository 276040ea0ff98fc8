//! How a database's applied migrations differ from the ones a binary
//! embeds, and how that is said to the operator.

use std::fmt;

use sqlx::migrate::Migrator;

/// How a database's migrations differ from the ones this binary embeds.
/// Empty when the database has exactly this binary's schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationGaps {
    /// Embedded here, not applied there.
    pub pending: Vec<i64>,
    /// Started there but not finished (sqlx records them as unsuccessful).
    pub failed: Vec<i64>,
    /// Applied there from a different text than this binary's.
    pub changed: Vec<i64>,
    /// Applied there, unknown here: a newer binary migrated the database.
    pub unknown: Vec<i64>,
}

impl MigrationGaps {
    /// Whether the database has every migration of this binary, as embedded, and no other.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty() && self.failed.is_empty() && self.changed.is_empty() && self.unknown.is_empty()
    }

    /// What the operator does about these gaps.
    pub(crate) fn advice(&self) -> &'static str {
        if self.pending.is_empty() && self.failed.is_empty() && self.changed.is_empty() {
            "a newer binary migrated the database: serve with one at least as new"
        } else {
            "run `referral-hub migrate` with this binary as the owner role, then start the hub again"
        }
    }

    /// The gaps between `embedded` and what a database records as `applied`
    /// (version, checksum, whether it finished).
    pub(crate) fn between(embedded: &Migrator, applied: &[(i64, Vec<u8>, bool)]) -> MigrationGaps {
        let mut gaps = MigrationGaps::default();
        let embedded: Vec<_> = embedded.iter().filter(|m| !m.migration_type.is_down_migration()).collect();
        for migration in &embedded {
            match applied.iter().find(|(version, _, _)| *version == migration.version) {
                None => gaps.pending.push(migration.version),
                Some((_, _, false)) => gaps.failed.push(migration.version),
                Some((_, checksum, true)) if *checksum != *migration.checksum => gaps.changed.push(migration.version),
                Some(_) => {}
            }
        }
        gaps.unknown = applied
            .iter()
            .map(|(version, _, _)| *version)
            .filter(|version| !embedded.iter().any(|m| m.version == *version))
            .collect();
        gaps
    }
}

impl fmt::Display for MigrationGaps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts = [
            (&self.pending, "is not applied", "are not applied"),
            (&self.failed, "failed part-way", "failed part-way"),
            (&self.changed, "was applied from another text", "were applied from another text"),
            (&self.unknown, "is unknown to this binary", "are unknown to this binary"),
        ];
        let named: Vec<String> = parts
            .into_iter()
            .filter(|(versions, _, _)| !versions.is_empty())
            .map(|(versions, one, many)| match versions.as_slice() {
                [version] => format!("migration {version:04} {one}"),
                _ => format!("migrations {} {many}", runs(versions).join(", ")),
            })
            .collect();
        f.write_str(&named.join("; "))
    }
}

/// `versions` (ascending) as they are named in `migrations/`, a run of
/// consecutive ones as its first and last: `0001-0018`.
fn runs(versions: &[i64]) -> Vec<String> {
    let mut runs: Vec<(i64, i64)> = Vec::new();
    for &version in versions {
        match runs.last_mut() {
            Some((_, last)) if *last + 1 == version => *last = version,
            _ => runs.push((version, version)),
        }
    }
    runs.into_iter()
        .map(|(first, last)| if first == last { format!("{first:04}") } else { format!("{first:04}-{last:04}") })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrations::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};

    fn applied_as_embedded() -> Vec<(i64, Vec<u8>, bool)> {
        POSTGRES_MIGRATIONS.iter().map(|m| (m.version, m.checksum.to_vec(), true)).collect()
    }

    #[test]
    fn a_database_with_every_embedded_migration_has_no_gaps() {
        let gaps = MigrationGaps::between(&POSTGRES_MIGRATIONS, &applied_as_embedded());
        assert!(gaps.is_empty(), "{gaps}");
    }

    #[test]
    fn an_empty_database_lacks_every_migration() {
        let gaps = MigrationGaps::between(&SQLITE_MIGRATIONS, &[]);
        let every: Vec<_> = SQLITE_MIGRATIONS.iter().map(|m| m.version).collect();
        assert_eq!(gaps.pending, every);
        let last = every.last().copied().unwrap_or_default();
        assert_eq!(gaps.to_string(), format!("migrations 0001-{last:04} are not applied"));
    }

    #[test]
    fn missing_failed_changed_and_unknown_migrations_are_each_named() {
        let mut applied = applied_as_embedded();
        let last = applied.pop().expect("migrations").0;
        applied[0].2 = false;
        applied[1].1 = vec![0; 48];
        applied.push((9999, vec![1], true));
        let gaps = MigrationGaps::between(&POSTGRES_MIGRATIONS, &applied);
        let named = gaps.to_string();
        assert_eq!((gaps.pending, gaps.failed, gaps.changed, gaps.unknown), (vec![last], vec![1], vec![2], vec![9999]));
        assert_eq!(
            named,
            format!(
                "migration {last:04} is not applied; migration 0001 failed part-way; migration 0002 was applied \
                 from another text; migration 9999 is unknown to this binary"
            )
        );
    }
}
