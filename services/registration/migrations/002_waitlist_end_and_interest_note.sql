-- Raised by the admitting statement (store/registrations.py, ADMIT) when a forum stopped taking
-- registrations between the statement's snapshot and its lock on the forum row (cancelled,
-- held, deadline moved): the error undoes the whole statement, the organisation's seats row
-- included, and the service answers 409 instead of half-writing a registration.
CREATE FUNCTION registration.closed_while_admitting() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the forum closed while the registration was admitted'
        USING ERRCODE = 'DN001';
END $$;

-- What an organisation wrote when declaring interest (personal data: erased with the contact).
ALTER TABLE registration.organizations ADD COLUMN interest_note text;

-- A registration may now be cancelled by its forum's cancellation (the waitlist ends).
ALTER TABLE registration.registrations ADD CONSTRAINT registrations_cancelled_by
    CHECK (cancelled_by IN ('registrant', 'staff', 'intake', 'forum'));
