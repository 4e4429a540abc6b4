-- Candidates loaded next to a model's active version (issue 20): a shadow (docs/shadow.md) or arm B of an A/B experiment
-- (docs/ab.md). Kept so that a restarted agent loads them again. The SHA-256 is the file's as verified against its signed
-- manifest, checked again before the reload, and the command that loaded it (its payload is in 'commands') says the
-- rollout or the experiment's split.
CREATE TABLE candidates (
    model      TEXT NOT NULL,
    role       TEXT NOT NULL,   -- 'shadow' or 'arm-b'
    version    TEXT NOT NULL,
    file       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    command_id TEXT NOT NULL,
    loaded_at  TEXT NOT NULL,
    PRIMARY KEY (model, role)
);
