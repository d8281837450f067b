-- A delivery's creation time is when its row was written, not when its transaction began: the
-- consumer applies a fetch's facts in one transaction, and with now() every delivery of the
-- fetch had the same created_at, so the listing (created_at, id) put them in random order.
-- clock_timestamp() is read for each row, in the order the rows are inserted (planned order).
ALTER TABLE notification.deliveries ALTER COLUMN created_at SET DEFAULT clock_timestamp();
