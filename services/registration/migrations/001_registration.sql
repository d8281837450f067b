-- Registration's system of record: organisations, forums, registrations, access tokens.

CREATE TABLE registration.organizations (
    id                   uuid PRIMARY KEY,
    name                 text NOT NULL,
    kind                 text NOT NULL,
    district             text,
    website              text,
    status               text NOT NULL CHECK (status IN ('prospect', 'interested', 'partner', 'former')),
    contact_name         text,
    contact_email        text,
    contact_phone        text,
    contact_language     text,
    interested_at        timestamptz,
    agreement_signed_on  date,
    joined_at            timestamptz,
    left_at              timestamptz,
    erased_at            timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX organizations_status ON registration.organizations (status, name);

CREATE TABLE registration.forums (
    id                      uuid PRIMARY KEY,
    format                  text NOT NULL,
    title                   text NOT NULL,
    topics                  text[] NOT NULL DEFAULT '{}',
    venue                   text NOT NULL,
    starts_at               timestamptz NOT NULL,
    ends_at                 timestamptz NOT NULL,
    registration_deadline   timestamptz NOT NULL,
    capacity                integer NOT NULL CHECK (capacity > 0),
    seats_per_organization  integer CHECK (seats_per_organization > 0),
    audience                text NOT NULL CHECK (audience IN ('open', 'partners')),
    status                  text NOT NULL CHECK (status IN ('scheduled', 'held', 'cancelled')),
    -- Counters kept under the forum row lock, so admission needs no scan of registrations.
    seats_taken             integer NOT NULL DEFAULT 0 CHECK (seats_taken >= 0),
    waitlist_length         integer NOT NULL DEFAULT 0 CHECK (waitlist_length >= 0),
    attendance              integer,
    attended_registration_ids uuid[],
    outcomes                text,
    cancel_reason           text,
    held_at                 timestamptz,
    cancelled_at            timestamptz,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX forums_starts_at ON registration.forums (starts_at, id);

CREATE TABLE registration.registrations (
    id                         uuid PRIMARY KEY,
    forum_id                   uuid NOT NULL REFERENCES registration.forums (id),
    organization_id            uuid NOT NULL REFERENCES registration.organizations (id),
    -- Arrival order within the forum: the waitlist is first in, first out by this.
    arrival                    bigint GENERATED ALWAYS AS IDENTITY,
    status                     text NOT NULL CHECK (status IN ('confirmed', 'waitlisted', 'cancelled')),
    attendees                  integer NOT NULL CHECK (attendees > 0),
    contact_name               text,
    contact_email              text,
    contact_phone              text,
    contact_language           text NOT NULL DEFAULT 'de',
    wants_to_present           boolean NOT NULL DEFAULT false,
    interested_in_partnership  boolean NOT NULL DEFAULT false,
    accessibility_needs        text,
    interpreter_needs          text,
    consent_given_at           timestamptz,
    attended                   boolean,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    confirmed_at               timestamptz,
    cancelled_at               timestamptz,
    cancelled_by               text,
    erased_at                  timestamptz
);
-- One live registration per e-mail and forum; a cancelled one does not block registering again.
CREATE UNIQUE INDEX registrations_one_per_email ON registration.registrations
    (forum_id, lower(contact_email)) WHERE status <> 'cancelled';
CREATE INDEX registrations_forum_arrival ON registration.registrations (forum_id, arrival);
CREATE INDEX registrations_waitlist ON registration.registrations (forum_id, arrival)
    WHERE status = 'waitlisted';
CREATE INDEX registrations_organization ON registration.registrations (organization_id, forum_id);

-- Idempotency-Key replays: the first response, without the cancel token (derived again).
CREATE TABLE registration.idempotency_keys (
    idempotency_key  text PRIMARY KEY,
    request_hash     text NOT NULL,
    registration_id  uuid NOT NULL,
    response         jsonb NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- Bearer tokens, stored as SHA-256 hashes only.
CREATE TABLE registration.access_tokens (
    token_hash   text PRIMARY KEY,
    name         text NOT NULL,
    role         text NOT NULL CHECK (role IN ('staff', 'intake')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);

-- Keys for the cancel-link tokens (HMAC of the registration id) and the pages' CSRF tokens;
-- made once, shared by replicas. (The runtime's migration 004 creates the same table in every
-- schema: on a fresh database it ran first.)
CREATE TABLE IF NOT EXISTS registration.signing_keys (
    purpose     text PRIMARY KEY,
    secret      bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Attendees each organisation holds per forum (confirmed and waitlisted): the per-organisation
-- cap is checked on this row, locked by INSERT … ON CONFLICT, so concurrent requests see it fresh.
CREATE TABLE registration.organization_seats (
    forum_id         uuid NOT NULL REFERENCES registration.forums (id),
    organization_id  uuid NOT NULL REFERENCES registration.organizations (id),
    attendees        integer NOT NULL CHECK (attendees >= 0),
    PRIMARY KEY (forum_id, organization_id)
);
