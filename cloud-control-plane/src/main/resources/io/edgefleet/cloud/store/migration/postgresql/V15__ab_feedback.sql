-- A/B feedback (issue 20, docs/ab.md "Feedback and accuracy"): per arm, device and window, the answers whose true
-- outcome came back through the agent's feedback call, and how many of them the arm got right. 0 for older agents.
ALTER TABLE ab_readings ADD COLUMN labelled BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ab_readings ADD COLUMN correct BIGINT NOT NULL DEFAULT 0;
