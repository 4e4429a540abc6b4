-- Control-plane schema v1. Times are epoch milliseconds (INTEGER), JSON columns are TEXT.
CREATE TABLE models (
    name TEXT PRIMARY KEY,
    task TEXT,
    owner TEXT,
    labels TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL
);
CREATE TABLE model_versions (
    model TEXT NOT NULL REFERENCES models(name),
    version TEXT NOT NULL,
    status TEXT NOT NULL,
    target_profiles TEXT NOT NULL DEFAULT '[]',
    metadata TEXT NOT NULL DEFAULT '{}',
    variants TEXT NOT NULL,
    manifest BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT,
    deprecated_at INTEGER,
    deprecated_by TEXT,
    deprecated_reason TEXT,
    PRIMARY KEY (model, version)
);
CREATE TABLE devices (
    fleet TEXT NOT NULL,
    device TEXT NOT NULL,
    profile TEXT,
    agent_version TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    models TEXT NOT NULL DEFAULT '[]',
    online INTEGER NOT NULL DEFAULT 0,
    state_at INTEGER,
    status_changed_at INTEGER,
    last_seen INTEGER,
    registered_at INTEGER NOT NULL,
    PRIMARY KEY (fleet, device)
);
CREATE TABLE telemetry_seen (
    fleet TEXT NOT NULL,
    device TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (fleet, device, sequence)
);
CREATE INDEX telemetry_seen_received ON telemetry_seen (received_at);
CREATE TABLE telemetry_device (
    fleet TEXT NOT NULL,
    device TEXT NOT NULL,
    model TEXT NOT NULL,
    version TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    count INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    escalations INTEGER NOT NULL,
    non_finite INTEGER NOT NULL,
    low_confidence INTEGER NOT NULL,
    confidence_sum REAL NOT NULL,
    confidence_count INTEGER NOT NULL,
    p50_sum REAL NOT NULL,
    p95_sum REAL NOT NULL,
    p99_sum REAL NOT NULL,
    latency_weight INTEGER NOT NULL,
    max_ms REAL NOT NULL,
    batches INTEGER NOT NULL,
    PRIMARY KEY (fleet, device, model, version, bucket)
);
CREATE INDEX telemetry_device_model ON telemetry_device (model, version, bucket);
CREATE TABLE telemetry_model (
    model TEXT NOT NULL,
    version TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    count INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    escalations INTEGER NOT NULL,
    non_finite INTEGER NOT NULL,
    low_confidence INTEGER NOT NULL,
    confidence_sum REAL NOT NULL,
    confidence_count INTEGER NOT NULL,
    p50_sum REAL NOT NULL,
    p95_sum REAL NOT NULL,
    p99_sum REAL NOT NULL,
    latency_weight INTEGER NOT NULL,
    max_ms REAL NOT NULL,
    batches INTEGER NOT NULL,
    PRIMARY KEY (model, version, bucket)
);
CREATE TABLE telemetry_lost (
    fleet TEXT NOT NULL,
    device TEXT NOT NULL,
    lost INTEGER NOT NULL,
    PRIMARY KEY (fleet, device)
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    actor TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_subject ON events (subject, id)
