-- Every command an agent received, by its id, with the outcome it acknowledged: a redelivered
-- command is answered from here instead of being run again.
CREATE TABLE commands (
    command_id  TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    model       TEXT NOT NULL,
    target      TEXT,            -- the version the command leads to, known at receipt (rollback: the previous one)
    phase       TEXT NOT NULL,
    error_code  TEXT,
    error       TEXT,
    received_at TEXT NOT NULL,
    done_at     TEXT
);
-- Settings changed by 'configure' commands, per model.
CREATE TABLE settings (
    model TEXT NOT NULL,
    name  TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (model, name)
);
