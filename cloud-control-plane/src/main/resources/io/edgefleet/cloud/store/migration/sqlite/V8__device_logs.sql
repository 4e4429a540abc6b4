-- Issue 17, central logs: the WARN and ERROR records agents forward (topic ef/v1/{fleet}/{device}/logs), kept for a
-- bounded time and count per device (LogRepository prunes), queryable per device and by trace id.
CREATE TABLE device_logs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    fleet       TEXT NOT NULL,
    device      TEXT NOT NULL,
    at          INTEGER NOT NULL,           -- when the agent logged it, epoch milliseconds
    level       TEXT NOT NULL,              -- ERROR, WARN, INFO, DEBUG, TRACE
    severity    INTEGER NOT NULL,           -- java.util.logging's value of the level, for level >= filters
    logger      TEXT NOT NULL,
    thread      TEXT NOT NULL,
    message     TEXT NOT NULL,
    exception   TEXT,
    trace_id    TEXT,
    span_id     TEXT,
    received_at INTEGER NOT NULL
);
CREATE INDEX device_logs_device ON device_logs (device, at);
CREATE INDEX device_logs_trace ON device_logs (trace_id) WHERE trace_id IS NOT NULL;
CREATE INDEX device_logs_at ON device_logs (at);
-- Batches already stored, so a redelivered batch is dropped (pruned with the records).
CREATE TABLE device_log_batches (
    fleet       TEXT NOT NULL,
    device      TEXT NOT NULL,
    sequence    INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (fleet, device, sequence)
);
-- What each agent said it did not forward: records over its rate limit, batches its outbox dropped for space.
CREATE TABLE device_log_losses (
    fleet           TEXT NOT NULL,
    device          TEXT NOT NULL,
    dropped_records INTEGER NOT NULL,
    lost_batches    INTEGER NOT NULL,
    PRIMARY KEY (fleet, device)
);
