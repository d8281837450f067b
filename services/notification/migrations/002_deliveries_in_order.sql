-- Mail to one recipient goes out in the order it was planned: a delivery is claimed only when
-- no earlier one to the same address is still to be sent. `plan_order` is that order (the
-- insertion order, also among the deliveries of one transaction, which share created_at).
ALTER TABLE notification.deliveries ADD COLUMN plan_order bigint GENERATED ALWAYS AS IDENTITY;
CREATE INDEX deliveries_pending_per_recipient ON notification.deliveries
    (recipient_hash, plan_order) WHERE status IN ('queued', 'retrying', 'sending');
