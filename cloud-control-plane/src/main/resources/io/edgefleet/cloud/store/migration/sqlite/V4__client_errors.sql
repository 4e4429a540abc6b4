-- Requests refused as the client's mistake (issue 14): each window's total beside the other sums (so rates need no join),
-- and the split by kind (bad-request, invalid-input, unknown-model, payload-too-large, overloaded, ...).
-- Rows written before this migration count no refused request: agents before it did not report them.
ALTER TABLE telemetry_device ADD COLUMN client_errors INTEGER NOT NULL DEFAULT 0;
ALTER TABLE telemetry_model ADD COLUMN client_errors INTEGER NOT NULL DEFAULT 0;
CREATE TABLE telemetry_device_client_errors (
    fleet TEXT NOT NULL,
    device TEXT NOT NULL,
    model TEXT NOT NULL,
    version TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    kind TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (fleet, device, model, version, bucket, kind)
);
CREATE INDEX telemetry_device_client_errors_model ON telemetry_device_client_errors (model, version, bucket);
CREATE TABLE telemetry_model_client_errors (
    model TEXT NOT NULL,
    version TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    kind TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (model, version, bucket, kind)
)
