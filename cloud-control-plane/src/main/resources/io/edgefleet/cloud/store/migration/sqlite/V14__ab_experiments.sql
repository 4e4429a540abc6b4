-- A/B experiments on the device (issue 20, docs/ab.md): the experiments operators start, and what each arm did per
-- device and telemetry window as the agents reported it (sums, so windows and devices add up). A redelivered window is
-- kept once.
CREATE TABLE ab_experiments (
    id TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    version_a TEXT NOT NULL,
    version_b TEXT NOT NULL,
    share REAL NOT NULL,
    split_by TEXT NOT NULL,
    devices TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    stopped_at INTEGER
);
CREATE TABLE ab_readings (
    experiment_id TEXT NOT NULL,
    fleet TEXT NOT NULL,
    device TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    arm TEXT NOT NULL,
    version TEXT NOT NULL,
    requests INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    latency_sum REAL NOT NULL,
    latency_sum_sq REAL NOT NULL,
    confidence_n INTEGER NOT NULL,
    confidence_sum REAL NOT NULL,
    confidence_sum_sq REAL NOT NULL,
    PRIMARY KEY (experiment_id, fleet, device, window_start, arm)
);
