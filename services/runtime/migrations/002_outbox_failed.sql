-- Events the broker or the client refused for good (too large, invalid topic or record): the
-- relay marks them `failed` with the reason and publishes every later event; they wait for
-- `dialognet replay --failed` once the cause is fixed.
ALTER TABLE __schema__.outbox
    ADD COLUMN failed_at timestamptz,
    ADD COLUMN failure_reason text,
    DROP CONSTRAINT outbox_status_check,
    ADD CONSTRAINT outbox_status_check
        CHECK (status IN ('not_published', 'published', 'failed')),
    -- a failed row always says when and why; no other row carries a failure
    ADD CONSTRAINT outbox_failure_recorded
        CHECK ((status = 'failed') = (failed_at IS NOT NULL)
               AND (failed_at IS NULL) = (failure_reason IS NULL));
CREATE INDEX outbox_failed ON __schema__.outbox (id) WHERE status = 'failed';
