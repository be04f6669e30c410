//! Versioned schema migrations of both backends.
//!
//! A SQLite store records its schema version in `PRAGMA user_version`, a PostgreSQL store
//! in the one-row table `cloudcensus_schema`. Opening a store applies
//! every migration above that version, each in its own transaction, so an old store is
//! upgraded in place and a crash mid-upgrade leaves it at the last complete version. A
//! store newer than this build is refused rather than misread. Migrations are append-only:
//! never edit a released one, add the next.

/// Every migration in order: `(version, SQL)`. Version `n` upgrades `n - 1` to `n`.
pub const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("schema_v1.sql")),
    (2, include_str!("schema_v2.sql")),
];

/// The schema version this build writes.
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

/// The PostgreSQL migrations, numbered like [`MIGRATIONS`] (same version = same data).
pub const PG_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("schema_pg_v1.sql")),
    (2, include_str!("schema_pg_v2.sql")),
];

/// The PostgreSQL schema version this build writes.
pub fn pg_latest() -> i64 {
    PG_MIGRATIONS.last().map_or(0, |m| m.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_consecutively_from_one_on_both_backends() {
        assert_eq!(
            latest(),
            pg_latest(),
            "both backends at the same schema version"
        );
        for (i, (v, sql)) in MIGRATIONS.iter().chain(PG_MIGRATIONS).enumerate() {
            let i = i % MIGRATIONS.len();
            assert_eq!(*v, i as i64 + 1);
            assert!(!sql.trim().is_empty());
        }
    }
}
