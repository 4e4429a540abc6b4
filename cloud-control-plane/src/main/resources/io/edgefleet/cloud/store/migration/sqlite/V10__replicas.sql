-- Several control-plane replicas on one database (issue 18). A single SQLite node always leads and never
-- writes these; the tables keep both schemas column for column.
CREATE TABLE leader_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    token INTEGER NOT NULL,
    renewed_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
ALTER TABLE rollout_devices ADD COLUMN command_token INTEGER;
CREATE TABLE chunks (
    sha256 TEXT PRIMARY KEY,
    data BLOB NOT NULL,
    size_bytes INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
