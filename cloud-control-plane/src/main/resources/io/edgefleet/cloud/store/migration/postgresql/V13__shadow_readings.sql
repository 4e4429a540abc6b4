-- Shadow waves (issue 20, docs/shadow.md): what a candidate loaded in shadow did next to the active version, per rollout,
-- device and telemetry window, as the agent reported it. A redelivered window is kept once.
CREATE TABLE shadow_readings (
    rollout_id TEXT NOT NULL,
    fleet TEXT NOT NULL,
    device TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    window_end BIGINT NOT NULL,
    model TEXT NOT NULL,
    active_version TEXT NOT NULL,
    candidate TEXT NOT NULL,
    samples BIGINT NOT NULL,
    agreements BIGINT NOT NULL,
    non_finite BIGINT NOT NULL,
    dropped BIGINT NOT NULL,
    latency_ratio DOUBLE PRECISION,
    confidence_diff DOUBLE PRECISION,
    active_ms DOUBLE PRECISION,
    PRIMARY KEY (rollout_id, fleet, device, window_start)
);
