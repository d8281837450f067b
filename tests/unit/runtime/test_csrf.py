"""The CSRF token: the HMAC of the browser's cookie value under the service's key, nothing else."""

import secrets

import pytest

from services.runtime.csrf import CsrfProtection, new_binding
from services.runtime.sessions import Sessions

KEY = secrets.token_bytes(32)


@pytest.fixture
def protection() -> CsrfProtection:
    return CsrfProtection(KEY, secure_cookie=False)


def test_a_form_token_is_accepted_with_the_cookie_it_was_made_for(
    protection: CsrfProtection,
) -> None:
    binding = new_binding()

    assert protection.accepts(binding, protection.token(binding))


@pytest.mark.parametrize(
    "offered",
    ["", "0" * 64, "ä" * 64, "\udcff", "x" * 10_000],
    ids=["empty", "zeros", "non-ASCII", "lone surrogate", "long"],
)
def test_any_other_token_is_refused(protection: CsrfProtection, offered: str) -> None:
    assert not protection.accepts(new_binding(), offered)


def test_a_token_does_not_fit_another_cookie_or_another_key(protection: CsrfProtection) -> None:
    binding, other = new_binding(), new_binding()
    token = protection.token(binding)

    assert not protection.accepts(other, token)
    assert not CsrfProtection(secrets.token_bytes(32), secure_cookie=False).accepts(binding, token)
    assert not protection.accepts(None, token)


def test_bindings_are_random_and_cookie_safe() -> None:
    made = {new_binding() for _ in range(100)}

    assert len(made) == 100
    assert all(len(binding) == 43 and binding.isascii() for binding in made)


def test_no_signing_key_shows_in_a_repr(protection: CsrfProtection) -> None:
    """A repr ends up in log lines and in tracebacks with their locals."""
    sessions = Sessions(KEY, lifetime_seconds=3600, secure_cookie=False)
    for shown in (repr(protection), repr(sessions)):
        assert repr(KEY) not in shown
        assert "key=" not in shown
    assert "secure_cookie=False" in repr(protection)
