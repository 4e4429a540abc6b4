-- A/B experiments' split commands tracked per experiment and device (issue 20, docs/ab.md): one row per command id
-- (start or stop), what the device acknowledged last, and when the leader sends it again. A start is re-sent with
-- backoff until acknowledged while its experiment runs; a stop until acknowledged.
CREATE TABLE ab_commands (
    command_id TEXT PRIMARY KEY,
    experiment_id TEXT NOT NULL,
    fleet TEXT NOT NULL,
    device TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    phase TEXT,
    error TEXT,
    attempts INTEGER NOT NULL,
    fencing_token INTEGER,
    sent_at INTEGER,
    next_send_at INTEGER NOT NULL,
    acked_at INTEGER,
    payload TEXT NOT NULL
);
CREATE INDEX ab_commands_experiment ON ab_commands (experiment_id);
CREATE INDEX ab_commands_due ON ab_commands (state, next_send_at);
