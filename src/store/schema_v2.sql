-- cloudcensus store schema, version 2: who created the resources a scan looked up in the
-- providers' audit logs (unregistered ones). One row per resource asked about; part of
-- the scan's content hash from hash version 2 on. See docs/store.md.

CREATE TABLE creators (
    scan_seq    INTEGER NOT NULL,
    ord         INTEGER NOT NULL,
    provider    TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    status      TEXT NOT NULL,
    principal   TEXT,
    event_time  TEXT,
    source      TEXT NOT NULL,
    detail      TEXT,
    PRIMARY KEY (scan_seq, ord)
) WITHOUT ROWID;
