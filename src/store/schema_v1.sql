-- cloudcensus store schema, version 1. See docs/store.md.
-- Timestamps are RFC 3339 UTC text (`2026-03-02T03:00:00Z`); lists and maps are compact
-- JSON text. `seq` is the position in the hash chain (commit order).

CREATE TABLE store_info (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE scans (
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    organisation   TEXT NOT NULL,
    period         TEXT NOT NULL,
    started_at     TEXT NOT NULL,
    finished_at    TEXT NOT NULL,
    tool_version   TEXT NOT NULL,
    identities     TEXT NOT NULL,
    config_digest  TEXT NOT NULL,
    committed_at   TEXT NOT NULL,
    scope_count    INTEGER NOT NULL,
    group_count    INTEGER NOT NULL,
    resource_count INTEGER NOT NULL,
    coverage_count INTEGER NOT NULL,
    coverage_gaps  INTEGER NOT NULL,
    hash_version   INTEGER NOT NULL,
    content_hash   TEXT NOT NULL,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL
);
CREATE INDEX scans_period ON scans (period);

-- Chain links of pruned scans: their rows are gone, their hashes stay.
CREATE TABLE pruned_scans (
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    period         TEXT NOT NULL,
    finished_at    TEXT NOT NULL,
    resource_count INTEGER NOT NULL,
    content_hash   TEXT NOT NULL,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL,
    pruned_at      TEXT NOT NULL
);

CREATE TABLE scopes (
    scan_seq INTEGER NOT NULL,
    ord      INTEGER NOT NULL,
    provider TEXT NOT NULL,
    kind     TEXT NOT NULL,
    id       TEXT NOT NULL,
    name     TEXT,
    parents  TEXT NOT NULL,
    tags     TEXT NOT NULL,
    PRIMARY KEY (scan_seq, ord)
) WITHOUT ROWID;

CREATE TABLE resource_groups (
    scan_seq INTEGER NOT NULL,
    ord      INTEGER NOT NULL,
    provider TEXT NOT NULL,
    scope_id TEXT NOT NULL,
    name     TEXT NOT NULL,
    location TEXT,
    tags     TEXT NOT NULL,
    PRIMARY KEY (scan_seq, ord)
) WITHOUT ROWID;

CREATE TABLE resources (
    scan_seq       INTEGER NOT NULL,
    ord            INTEGER NOT NULL,
    provider       TEXT NOT NULL,
    scope_id       TEXT NOT NULL,
    resource_id    TEXT NOT NULL,
    resource_type  TEXT NOT NULL,
    category       TEXT NOT NULL,
    name           TEXT NOT NULL,
    location       TEXT,
    replicas       TEXT NOT NULL,
    resource_group TEXT,
    tags           TEXT NOT NULL,
    created_at     TEXT,
    PRIMARY KEY (scan_seq, ord)
) WITHOUT ROWID;

CREATE TABLE coverage (
    scan_seq INTEGER NOT NULL,
    ord      INTEGER NOT NULL,
    provider TEXT NOT NULL,
    scope_id TEXT NOT NULL,
    region   TEXT NOT NULL,
    service  TEXT NOT NULL,
    status   TEXT NOT NULL,
    message  TEXT,
    PRIMARY KEY (scan_seq, ord)
) WITHOUT ROWID;
