-- cloudcensus PostgreSQL store schema, version 2 (same data as schema_v2.sql): who created
-- the resources a scan looked up in the providers' audit logs.

CREATE TABLE creators (
    scan_seq    BIGINT NOT NULL,
    ord         BIGINT NOT NULL,
    provider    TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    status      TEXT NOT NULL,
    principal   TEXT,
    event_time  TEXT,
    source      TEXT NOT NULL,
    detail      TEXT,
    PRIMARY KEY (scan_seq, ord)
);
