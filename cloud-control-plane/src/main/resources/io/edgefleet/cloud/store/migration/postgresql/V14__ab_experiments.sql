-- A/B experiments on the device (issue 20, docs/ab.md): the experiments operators start, and what each arm did per
-- device and telemetry window as the agents reported it (sums, so windows and devices add up). A redelivered window is
-- kept once.
CREATE TABLE ab_experiments (
    id TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    version_a TEXT NOT NULL,
    version_b TEXT NOT NULL,
    share DOUBLE PRECISION NOT NULL,
    split_by TEXT NOT NULL,
    devices TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    stopped_at BIGINT
);
CREATE TABLE ab_readings (
    experiment_id TEXT NOT NULL,
    fleet TEXT NOT NULL,
    device TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    arm TEXT NOT NULL,
    version TEXT NOT NULL,
    requests BIGINT NOT NULL,
    errors BIGINT NOT NULL,
    latency_sum DOUBLE PRECISION NOT NULL,
    latency_sum_sq DOUBLE PRECISION NOT NULL,
    confidence_n BIGINT NOT NULL,
    confidence_sum DOUBLE PRECISION NOT NULL,
    confidence_sum_sq DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (experiment_id, fleet, device, window_start, arm)
);
