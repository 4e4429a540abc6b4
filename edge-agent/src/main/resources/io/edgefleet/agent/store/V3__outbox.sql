-- Telemetry batches waiting for the broker's PUBACK, in sequence order. A row is deleted only
-- after the broker acknowledged it, so a crash or a broker outage loses nothing accepted.
CREATE TABLE outbox (
    sequence   INTEGER PRIMARY KEY,
    payload    BLOB NOT NULL,
    created_at TEXT NOT NULL
);
-- Counters that must survive restarts: the last sequence number used, batches dropped for space.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('telemetry.sequence', -1), ('telemetry.lost', 0), ('telemetry.lost.unreported', 0);
