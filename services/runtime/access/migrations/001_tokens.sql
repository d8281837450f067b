-- The platform's bearer tokens, stored as SHA-256 hashes only. Owned by the runtime, not by a
-- service: every service looks roles up here; `dialognet token` creates, revokes and lists them.
CREATE TABLE access.tokens (
    token_hash   text PRIMARY KEY,
    name         text NOT NULL,
    role         text NOT NULL CHECK (role IN ('staff', 'intake')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
