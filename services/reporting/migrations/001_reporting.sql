-- The reporting service's read models: pure functions of the events, rebuilt from zero into a
-- new generation beside the live one and swapped in (services/reporting/rebuild.py). Every
-- read-model row belongs to a generation; the reports and metrics read the live one.
--
-- Order tolerance: events arrive in any order across topics and partitions. Each row keeps
-- the time (occurred_at) of the event that set its state, and an upsert takes a state only
-- from a later event; counts are computed from the rows when asked, never incremented. So the
-- rows converge to the same content whatever the arrival order. No personal data: no contact,
-- no e-mail address, no needs text or free-text reason, only flags and counts; organisation
-- names until organization.erased removes them.

CREATE TABLE reporting.generations (
    generation   integer PRIMARY KEY,
    state        text NOT NULL CHECK (state IN ('live', 'building', 'retired')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    live_since   timestamptz
);
CREATE UNIQUE INDEX generations_one_live ON reporting.generations ((true)) WHERE state = 'live';
INSERT INTO reporting.generations (generation, state, live_since) VALUES (1, 'live', now());

CREATE TABLE reporting.organizations (
    generation       integer NOT NULL,
    organization_id  uuid NOT NULL,
    name             text,            -- NULL once erased
    name_at          timestamptz,
    kind             text,            -- from organization.registered
    district         text,
    status           text,            -- of the latest organisation event
    status_at        timestamptz,
    status_rank      smallint,        -- breaks ties of equal times: later steps win
    erased           boolean NOT NULL DEFAULT false,
    PRIMARY KEY (generation, organization_id)
);

-- Every step of an organisation's path, one row an event: growth month by month, the funnel.
CREATE TABLE reporting.organization_steps (
    generation       integer NOT NULL,
    event_id         uuid NOT NULL,
    organization_id  uuid NOT NULL,
    step             text NOT NULL CHECK (step IN ('registered', 'interested', 'joined', 'left')),
    at               timestamptz NOT NULL,
    PRIMARY KEY (generation, event_id)
);
CREATE INDEX organization_steps_of ON reporting.organization_steps (generation, organization_id);

CREATE TABLE reporting.forums (
    generation             integer NOT NULL,
    forum_id               uuid NOT NULL,
    title                  text,
    format                 text,
    topics                 text[],
    venue                  text,
    starts_at              timestamptz,
    ends_at                timestamptz,
    registration_deadline  timestamptz,
    capacity               integer,     -- NULL until forum.scheduled or .updated has arrived
    audience               text,
    snapshot_at            timestamptz, -- occurred_at of the snapshot the columns above hold
    status                 text,
    status_at              timestamptz,
    status_rank            smallint,
    attendance             integer,
    held_at                timestamptz,
    cancelled_at           timestamptz,
    PRIMARY KEY (generation, forum_id)
);

CREATE TABLE reporting.registrations (
    generation                 integer NOT NULL,
    registration_id            uuid NOT NULL,
    forum_id                   uuid NOT NULL,
    organization_id            uuid NOT NULL,
    status                     text NOT NULL,
    status_at                  timestamptz NOT NULL,
    status_rank                smallint NOT NULL,
    attendees                  integer NOT NULL,
    wants_to_present           boolean NOT NULL,
    interested_in_partnership  boolean NOT NULL,
    accessibility_needs        boolean NOT NULL,  -- whether any were given, never the text
    interpreter_needs          boolean NOT NULL,
    registered_at              timestamptz,       -- from registration.made
    first_seen_at              timestamptz NOT NULL,
    cancelled_by               text,
    cancelled_at               timestamptz,
    PRIMARY KEY (generation, registration_id)
);
CREATE INDEX registrations_of_forum ON reporting.registrations (generation, forum_id);
CREATE INDEX registrations_of_organization
    ON reporting.registrations (generation, organization_id);

-- Who came, from forum.held (a registration may be known here before its own events).
CREATE TABLE reporting.attendances (
    generation       integer NOT NULL,
    registration_id  uuid NOT NULL,
    forum_id         uuid NOT NULL,
    PRIMARY KEY (generation, registration_id)
);

-- E-mails by delivery: the latest result of each (kind is bounded, see projection/facts.py).
CREATE TABLE reporting.deliveries (
    generation   integer NOT NULL,
    delivery_id  uuid NOT NULL,
    kind         text NOT NULL,
    result       text NOT NULL CHECK (result IN ('sent', 'failed')),
    result_at    timestamptz NOT NULL,
    PRIMARY KEY (generation, delivery_id)
);

-- Per topic: events applied and the latest occurred_at among them.
CREATE TABLE reporting.topic_progress (
    generation     integer NOT NULL,
    topic          text NOT NULL,
    events         bigint NOT NULL,
    last_event_at  timestamptz NOT NULL,
    PRIMARY KEY (generation, topic)
);

-- Pipeline health of the live consumer (not part of a generation: a rebuild has no latency to
-- tell, and dead letters stay dead letters): the event → projection latency histogram, as
-- counts per bucket, and the messages the consumer dead-lettered.
CREATE TABLE reporting.projection_latency (
    topic         text NOT NULL,
    bucket        double precision NOT NULL,  -- upper bound in seconds; 'Infinity' for the rest
    observations  bigint NOT NULL,
    seconds       double precision NOT NULL,  -- their sum
    PRIMARY KEY (topic, bucket)
);

CREATE TABLE reporting.dead_letters (
    topic              text NOT NULL,
    source_partition   integer NOT NULL,
    source_offset      bigint NOT NULL,
    reason             text NOT NULL,
    dead_lettered_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, source_partition, source_offset)
);

-- The keys it signs with (staff sessions, CSRF) are the runtime's table (runtime migration 004).
