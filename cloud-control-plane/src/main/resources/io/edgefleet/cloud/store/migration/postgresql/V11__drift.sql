-- Drift detection (issue 20, docs/drift.md). One reference profile per model version: the quantile bins and
-- expected proportions the windows are compared with, as JSON; source 'samples' (the operator's) or 'traffic'.
CREATE TABLE drift_references (
    model TEXT NOT NULL,
    version TEXT NOT NULL,
    source TEXT NOT NULL,
    samples BIGINT NOT NULL,
    profile TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (model, version)
);
-- One row per judged window of a model version: the worst and mean feature PSI, the confidence PSI, and whether the
-- version was in alarm after it.
CREATE TABLE drift_windows (
    model TEXT NOT NULL,
    version TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    samples BIGINT NOT NULL,
    max_psi DOUBLE PRECISION NOT NULL,
    mean_psi DOUBLE PRECISION NOT NULL,
    worst_feature TEXT NOT NULL,
    confidence_psi DOUBLE PRECISION,
    alarm INTEGER NOT NULL,
    PRIMARY KEY (model, version, window_start)
);
