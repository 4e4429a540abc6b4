-- Several control-plane replicas on one database (issue 18).
-- The leader lease: one row per lease name; token grows by one at every change of holder (the fencing token);
-- times in epoch milliseconds on the database's clock.
CREATE TABLE leader_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    token BIGINT NOT NULL,
    renewed_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
-- The fencing token under which a device was last commanded: an acknowledgement of a command issued under a lower one is stale.
ALTER TABLE rollout_devices ADD COLUMN command_token BIGINT;
-- Model chunks by SHA-256, the store of record every replica reads (each replica's data-dir/chunks caches them).
CREATE TABLE chunks (
    sha256 TEXT PRIMARY KEY,
    data BYTEA NOT NULL,
    size_bytes BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
