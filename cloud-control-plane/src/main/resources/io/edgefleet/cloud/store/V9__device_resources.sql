-- Issue 17: the latest resource use each agent reported with its telemetry (a JSON object of snake_case figures in
-- base units, see ResourceUsage) and when the agent measured it (its batch's sentAt, epoch milliseconds).
ALTER TABLE devices ADD COLUMN resources TEXT;
ALTER TABLE devices ADD COLUMN resources_at INTEGER;
