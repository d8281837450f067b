"""The kinds of e-mail reporting tells apart (the notification service's templates, a public
contract of theirs), each with its name for people; any other is counted as `other`, so a
label never takes an unbounded value."""

OTHER = "other"

# kind → (German, English)
EMAIL_KINDS: dict[str, tuple[str, str]] = {
    "registration_confirmed": ("Anmeldebestätigung", "Registration confirmed"),
    "registration_waitlisted": ("Warteliste", "Waiting list"),
    "registration_promoted": ("Nachgerückt", "Promoted from the waiting list"),
    "registration_cancelled": ("Stornierung", "Registration cancelled"),
    "forum_invitation": ("Einladung", "Invitation"),
    "forum_updated": ("Änderung", "Forum changed"),
    "forum_reminder": ("Erinnerung", "Reminder"),
    "forum_cancelled": ("Absage", "Forum cancelled"),
    "forum_thanks": ("Dank", "Thank-you"),
    "partner_welcome": ("Willkommen als Partner", "Welcome as a partner"),
    "interest_acknowledged": ("Interesse bestätigt", "Interest acknowledged"),
    "interest_staff_note": ("Hinweis an das Team", "Note to the staff"),
    OTHER: ("Sonstige", "Other"),
}


def bounded_kind(template: str) -> str:
    return template if template in EMAIL_KINDS else OTHER
