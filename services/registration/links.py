"""The registrant's cancel links: the API's, to POST as given, and the page's, for a person (the
link the notification service e-mails, built the same way from DIALOGNET_PUBLIC_BASE_URL)."""

from uuid import UUID

CANCEL_PAGE_PATH = "/registrations/{registration_id}/cancel"


def cancel_api_url(public_base_url: str, registration_id: UUID, cancel_token: str) -> str:
    return (
        f"{_base(public_base_url)}/v1/registrations/{registration_id}/cancel?token={cancel_token}"
    )


def cancel_page_url(public_base_url: str, registration_id: UUID, cancel_token: str) -> str:
    path = CANCEL_PAGE_PATH.format(registration_id=registration_id)
    return f"{_base(public_base_url)}{path}?token={cancel_token}"


def _base(public_base_url: str) -> str:
    return public_base_url.rstrip("/")
