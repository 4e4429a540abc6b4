-- The command as it arrived, so one that a crash interrupted can be finished after a restart:
-- the agent records a command before it acknowledges it to the broker.
ALTER TABLE commands ADD COLUMN payload BLOB;
