-- Notification's schema: the read model it needs to write e-mails (kept from the facts, never
-- read from another service's tables), the deliveries with their states, unsubscribes and
-- the reminders it owes. Each row of the read model keeps the occurred_at of the fact that
-- wrote it: facts arrive in any order across topics, and a later one always wins.

CREATE TABLE notification.organizations (
    id                uuid PRIMARY KEY,
    name              text,
    status            text NOT NULL,
    contact_name      text,
    contact_email     text,
    contact_language  text,
    updated_at        timestamptz NOT NULL,
    erased_at         timestamptz
);
CREATE INDEX organizations_status ON notification.organizations (status);

CREATE TABLE notification.forums (
    id                     uuid PRIMARY KEY,
    title                  text NOT NULL,
    format                 text NOT NULL,
    venue                  text NOT NULL,
    starts_at              timestamptz NOT NULL,
    ends_at                timestamptz NOT NULL,
    registration_deadline  timestamptz,
    audience               text,
    status                 text NOT NULL,
    -- The .ics SEQUENCE: how many times the time or the venue changed.
    sequence               integer NOT NULL DEFAULT 0,
    updated_at             timestamptz NOT NULL
);

CREATE TABLE notification.registrations (
    id                 uuid PRIMARY KEY,
    forum_id           uuid NOT NULL,
    organization_id    uuid NOT NULL,
    organization_name  text,
    status             text NOT NULL,
    attendees          integer NOT NULL,
    waitlist_position  integer,
    contact_name       text,
    contact_email      text,
    contact_language   text,
    -- Only registration.made carries it (and a replayed one no longer does).
    cancel_token       text,
    registered_at      timestamptz NOT NULL,
    -- When the registration got its seat (made confirmed, or promoted): the reminder goes to
    -- those who had one when it fell due.
    confirmed_at       timestamptz,
    cancelled_by       text,
    updated_at         timestamptz NOT NULL
);
CREATE INDEX registrations_forum ON notification.registrations (forum_id, status);
CREATE INDEX registrations_organization ON notification.registrations (organization_id);

-- Recipients who asked for no more invitations (by address hash: no address is kept here).
CREATE TABLE notification.unsubscribes (
    recipient_hash   text PRIMARY KEY,
    unsubscribed_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per e-mail owed: unique per (source event, recipient, kind), written in the
-- transaction of the fact's inbox entry, so a redelivered or replayed fact adds nothing.
CREATE TABLE notification.deliveries (
    id                 uuid PRIMARY KEY,
    source_event_id    uuid NOT NULL,
    source_event_type  text NOT NULL,
    kind               text NOT NULL,
    language           text NOT NULL,
    recipient_hash     text NOT NULL,
    -- The mail as planned (recipient address included); NULL once the organisation is erased.
    mail               jsonb,
    organization_id    uuid,
    forum_id           uuid,
    registration_id    uuid,
    status             text NOT NULL CHECK (status IN
                           ('queued', 'sending', 'sent', 'retrying', 'failed', 'suppressed')),
    -- suppressed: why not sent; retrying and failed: the last error.
    reason             text,
    attempts           integer NOT NULL DEFAULT 0,
    next_attempt_at    timestamptz,
    claimed_at         timestamptz,
    message_id         text NOT NULL,
    -- The chain the mail belongs to (intake command → fact → e-mail), for notification.*.
    correlation_id     text,
    event_occurred_at  timestamptz NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    sent_at            timestamptz,
    failed_at          timestamptz,
    UNIQUE (source_event_id, recipient_hash, kind)
);
CREATE INDEX deliveries_due ON notification.deliveries (next_attempt_at)
    WHERE status IN ('queued', 'retrying');
CREATE INDEX deliveries_sending ON notification.deliveries (claimed_at) WHERE status = 'sending';
CREATE INDEX deliveries_listing ON notification.deliveries (created_at, id);
CREATE INDEX deliveries_forum ON notification.deliveries (forum_id);
CREATE INDEX deliveries_organization ON notification.deliveries (organization_id);
CREATE INDEX deliveries_registration ON notification.deliveries (registration_id);

-- One notification per inserting statement wakes the sender; polling covers a lost one.
CREATE FUNCTION notification.notify_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('notification_deliveries', '');
    RETURN NULL;
END $$;
CREATE TRIGGER deliveries_inserted AFTER INSERT ON notification.deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION notification.notify_deliveries();

-- The reminder each scheduled forum is owed, due `reminder lead` before its start; claimed
-- with FOR UPDATE SKIP LOCKED, so with several replicas it is planned once.
CREATE TABLE notification.reminders (
    forum_id   uuid PRIMARY KEY,
    starts_at  timestamptz NOT NULL,
    due_at     timestamptz NOT NULL,
    status     text NOT NULL CHECK (status IN ('scheduled', 'done', 'cancelled')),
    done_at    timestamptz
);
CREATE INDEX reminders_due ON notification.reminders (due_at) WHERE status = 'scheduled';
