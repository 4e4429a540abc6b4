-- Which version of each model is active, and which one a rollback returns to.
CREATE TABLE slots (
    model            TEXT PRIMARY KEY,
    active_version   TEXT,
    active_file      TEXT,
    previous_version TEXT,
    previous_file    TEXT,
    updated_at       TEXT NOT NULL
);
