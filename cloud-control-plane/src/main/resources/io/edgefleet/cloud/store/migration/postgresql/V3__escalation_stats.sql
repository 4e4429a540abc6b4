-- Escalation details per window (agents with joint inference): cloud answers, cloud failures, time added.
ALTER TABLE telemetry_device ADD COLUMN cloud_answers BIGINT NOT NULL DEFAULT 0;
ALTER TABLE telemetry_device ADD COLUMN cloud_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE telemetry_device ADD COLUMN escalation_ms DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE telemetry_model ADD COLUMN cloud_answers BIGINT NOT NULL DEFAULT 0;
ALTER TABLE telemetry_model ADD COLUMN cloud_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE telemetry_model ADD COLUMN escalation_ms DOUBLE PRECISION NOT NULL DEFAULT 0
