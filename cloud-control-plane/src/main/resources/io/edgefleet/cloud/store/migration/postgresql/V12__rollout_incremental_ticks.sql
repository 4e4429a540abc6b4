-- Incremental rollout ticks (issue 18): every write of a rollout's device stamps it with the rollout's next change
-- sequence number, so a tick reads only the rows written since the last one it saw; counts by state are indexed.
-- Rows written before this version keep 0: a reader that starts reads a rollout's devices whole once.
ALTER TABLE rollout_devices ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX rollout_devices_seq ON rollout_devices (rollout, seq);
CREATE INDEX rollout_devices_state ON rollout_devices (rollout, state);
CREATE INDEX rollout_log_kind ON rollout_log (rollout, wave, kind);
