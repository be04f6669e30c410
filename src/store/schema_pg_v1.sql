-- cloudcensus PostgreSQL store schema, version 1. See docs/store.md.
-- Same columns and encodings as the SQLite schema (timestamps RFC 3339 UTC text, lists and
-- maps compact JSON text; cast `tags::jsonb` in BI queries), plus what several
-- organisations writing one database need: the hash chain is per organisation, so
-- `pruned_scans` keeps the organisation, and `seq` (the rows' key) comes from a sequence
-- taken when a scan begins (gaps are rolled-back scans); `commit_seq` is the commit order.

CREATE TABLE store_info (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE SEQUENCE scan_seq AS BIGINT;

CREATE TABLE scans (
    seq            BIGINT PRIMARY KEY,
    commit_seq     BIGINT NOT NULL UNIQUE,
    id             TEXT NOT NULL UNIQUE,
    organisation   TEXT NOT NULL,
    period         TEXT NOT NULL,
    started_at     TEXT NOT NULL,
    finished_at    TEXT NOT NULL,
    tool_version   TEXT NOT NULL,
    identities     TEXT NOT NULL,
    config_digest  TEXT NOT NULL,
    committed_at   TEXT NOT NULL,
    scope_count    BIGINT NOT NULL,
    group_count    BIGINT NOT NULL,
    resource_count BIGINT NOT NULL,
    coverage_count BIGINT NOT NULL,
    coverage_gaps  BIGINT NOT NULL,
    hash_version   BIGINT NOT NULL,
    content_hash   TEXT NOT NULL,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL
);
CREATE INDEX scans_period ON scans (period);
CREATE INDEX scans_organisation ON scans (organisation, commit_seq);

CREATE TABLE pruned_scans (
    seq            BIGINT PRIMARY KEY,
    commit_seq     BIGINT NOT NULL UNIQUE,
    id             TEXT NOT NULL UNIQUE,
    organisation   TEXT NOT NULL,
    period         TEXT NOT NULL,
    finished_at    TEXT NOT NULL,
    resource_count BIGINT NOT NULL,
    content_hash   TEXT NOT NULL,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL,
    pruned_at      TEXT NOT NULL
);

CREATE TABLE scopes (
    scan_seq BIGINT NOT NULL,
    ord      BIGINT NOT NULL,
    provider TEXT NOT NULL,
    kind     TEXT NOT NULL,
    id       TEXT NOT NULL,
    name     TEXT,
    parents  TEXT NOT NULL,
    tags     TEXT NOT NULL,
    PRIMARY KEY (scan_seq, ord)
);

CREATE TABLE resource_groups (
    scan_seq BIGINT NOT NULL,
    ord      BIGINT NOT NULL,
    provider TEXT NOT NULL,
    scope_id TEXT NOT NULL,
    name     TEXT NOT NULL,
    location TEXT,
    tags     TEXT NOT NULL,
    PRIMARY KEY (scan_seq, ord)
);

CREATE TABLE resources (
    scan_seq       BIGINT NOT NULL,
    ord            BIGINT NOT NULL,
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
);

CREATE TABLE coverage (
    scan_seq BIGINT NOT NULL,
    ord      BIGINT NOT NULL,
    provider TEXT NOT NULL,
    scope_id TEXT NOT NULL,
    region   TEXT NOT NULL,
    service  TEXT NOT NULL,
    status   TEXT NOT NULL,
    message  TEXT,
    PRIMARY KEY (scan_seq, ord)
);
