-- Issue 16: which model runtimes load on each device, as its agent reports them in its state
-- (a JSON list of {runtime, loadable, version, detail}), '[]' until an agent that reports them connects.
ALTER TABLE devices ADD COLUMN runtimes TEXT NOT NULL DEFAULT '[]';
