-- Mail to one recipient goes out in the order it was planned: a delivery is claimed only when
-- no earlier one to the same address is still to be sent. This index answers that question.
CREATE INDEX deliveries_pending_per_recipient ON notification.deliveries
    (recipient_hash, created_at, id) WHERE status IN ('queued', 'retrying', 'sending');
