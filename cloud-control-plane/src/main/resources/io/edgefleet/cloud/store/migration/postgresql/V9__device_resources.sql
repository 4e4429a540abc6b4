-- Issue 17: the latest resource use each agent reported with its telemetry (a JSON object of snake_case figures in
-- base units, see ResourceUsage) and when the agent measured it (its batch's sentAt, epoch milliseconds).
ALTER TABLE devices ADD COLUMN resources TEXT;
ALTER TABLE devices ADD COLUMN resources_at BIGINT;
-- Each device's agent RSS at most every 5 minutes, for the maxMemoryGrowthRatio gate's "before" (the last report
-- before a device was commanded), pruned with the telemetry dedupe records.
CREATE TABLE device_resources_history (
    fleet TEXT NOT NULL,
    device TEXT NOT NULL,
    at BIGINT NOT NULL,
    process_rss_bytes BIGINT NOT NULL,
    PRIMARY KEY (fleet, device, at)
);
