-- The transactional outbox: written in the same transaction as the state change, published by
-- the relay, and kept afterwards as the service's event log (`dialognet replay`).
CREATE TABLE __schema__.outbox (
    id            bigserial PRIMARY KEY,
    event_id      uuid NOT NULL UNIQUE,
    topic         text NOT NULL,
    message_key   text NOT NULL,
    type          text NOT NULL,
    envelope      jsonb NOT NULL,
    occurred_at   timestamptz NOT NULL,
    -- organisation whose contacts' personal data the envelope may hold (for erasure)
    subject_id    uuid,
    status        text NOT NULL DEFAULT 'not_published'
                  CHECK (status IN ('not_published', 'published')),
    published_at  timestamptz
);
CREATE INDEX outbox_not_published ON __schema__.outbox (id) WHERE status = 'not_published';
CREATE INDEX outbox_subject ON __schema__.outbox (subject_id) WHERE subject_id IS NOT NULL;
CREATE INDEX outbox_occurred_at ON __schema__.outbox (occurred_at);

-- One notification per inserting statement wakes the relay; polling covers a lost one.
CREATE FUNCTION __schema__.notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('__schema___outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_inserted AFTER INSERT ON __schema__.outbox
    FOR EACH STATEMENT EXECUTE FUNCTION __schema__.notify_outbox();

-- The inbox: ids of messages whose effect is committed, written in the effect's transaction.
CREATE TABLE __schema__.inbox (
    consumer      text NOT NULL,
    event_id      text NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
