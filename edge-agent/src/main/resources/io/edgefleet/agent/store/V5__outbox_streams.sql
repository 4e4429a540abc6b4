-- One store-and-forward outbox for every stream the agent sends the cloud: telemetry batches and, since
-- central logs, batches of its WARN and ERROR log records. Each stream keeps its own sequence numbers
-- (counters '<stream>.sequence', '<stream>.lost', '<stream>.lost.unreported'), and rows leave in id order
-- per stream, deleted only after the broker acknowledged them.
ALTER TABLE outbox RENAME TO outbox_v3;
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    stream     TEXT NOT NULL,
    sequence   INTEGER NOT NULL,
    payload    BLOB NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (stream, sequence)
);
INSERT INTO outbox (stream, sequence, payload, created_at) SELECT 'telemetry', sequence, payload, created_at FROM outbox_v3 ORDER BY sequence;
DROP TABLE outbox_v3;
INSERT INTO counters (name, value) VALUES ('logs.sequence', -1), ('logs.lost', 0), ('logs.lost.unreported', 0);
