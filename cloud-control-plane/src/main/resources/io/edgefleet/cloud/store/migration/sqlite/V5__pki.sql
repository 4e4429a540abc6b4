-- Device identity (issue 15): every certificate the device CA issued, enrolment tokens (hashed), and when a device enrolled.
-- serial: the certificate's serial number, lowercase hex, and times are epoch milliseconds like every other table.
CREATE TABLE certificates (
    serial TEXT PRIMARY KEY,
    fleet TEXT NOT NULL,
    device TEXT NOT NULL,
    not_before INTEGER NOT NULL,
    not_after INTEGER NOT NULL,
    revoked_at INTEGER,
    pem TEXT NOT NULL
);
CREATE INDEX certificates_identity ON certificates (fleet, device, not_after);
CREATE INDEX certificates_revoked ON certificates (revoked_at) WHERE revoked_at IS NOT NULL;
-- hash: SHA-256 of the token's 256-bit secret (the secret itself is never stored), device NULL: any device of the fleet.
CREATE TABLE enrolment_tokens (
    id TEXT PRIMARY KEY,
    hash BLOB NOT NULL,
    fleet TEXT NOT NULL,
    device TEXT,
    uses_left INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    created_by TEXT,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
ALTER TABLE devices ADD COLUMN enrolled_at INTEGER;
