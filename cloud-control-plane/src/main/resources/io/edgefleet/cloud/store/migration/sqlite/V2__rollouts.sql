-- Staged rollouts: the rollout, its devices (one row each, with a deterministic rank), and its log.
CREATE TABLE rollouts (
    id TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    version TEXT NOT NULL,
    spec TEXT NOT NULL,
    state TEXT NOT NULL,
    wave INTEGER NOT NULL,
    wave_started_at INTEGER,
    wave_done_at INTEGER,
    promoted INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    created_at INTEGER NOT NULL,
    created_by TEXT,
    updated_at INTEGER NOT NULL
);
CREATE INDEX rollouts_state ON rollouts (state);
CREATE TABLE rollout_devices (
    rollout TEXT NOT NULL REFERENCES rollouts(id),
    fleet TEXT NOT NULL,
    device TEXT NOT NULL,
    rank TEXT NOT NULL,
    wave INTEGER NOT NULL,
    state TEXT NOT NULL,
    from_version TEXT,
    command_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    commanded_at INTEGER,
    activated_at INTEGER,
    error TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (rollout, fleet, device)
);
CREATE INDEX rollout_devices_command ON rollout_devices (command_id);
CREATE TABLE rollout_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    rollout TEXT NOT NULL,
    at INTEGER NOT NULL,
    wave INTEGER NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX rollout_log_rollout ON rollout_log (rollout, id)
