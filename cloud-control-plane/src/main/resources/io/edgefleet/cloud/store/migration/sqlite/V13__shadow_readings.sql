-- Shadow waves (issue 20, docs/shadow.md): what a candidate loaded in shadow did next to the active version, per rollout,
-- device and telemetry window, as the agent reported it. A redelivered window is kept once.
CREATE TABLE shadow_readings (
    rollout_id TEXT NOT NULL,
    fleet TEXT NOT NULL,
    device TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    window_end INTEGER NOT NULL,
    model TEXT NOT NULL,
    active_version TEXT NOT NULL,
    candidate TEXT NOT NULL,
    samples INTEGER NOT NULL,
    agreements INTEGER NOT NULL,
    non_finite INTEGER NOT NULL,
    dropped INTEGER NOT NULL,
    latency_ratio REAL,
    confidence_diff REAL,
    active_ms REAL,
    PRIMARY KEY (rollout_id, fleet, device, window_start)
);
