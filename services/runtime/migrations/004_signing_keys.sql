-- Keys a service signs with (cancel tokens, CSRF tokens, unsubscribe links): made once, shared
-- by every replica. Registration had this table in its own first migration already.
CREATE TABLE IF NOT EXISTS __schema__.signing_keys (
    purpose     text PRIMARY KEY,
    secret      bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
