-- Fields of `data` the relay removes from the stored envelope once the event is published: a
-- value that must travel in the event but not stay in the event log (the cancel token).
ALTER TABLE __schema__.outbox ADD COLUMN scrub_on_publish text[] NOT NULL DEFAULT '{}';
