"""Unsubscribe links: a token that names the recipient (by address hash) and is signed, so
only the recipient of an invitation can use it, and nobody can make one for someone else."""

import hashlib
import hmac
import re

RECIPIENT_HASH = re.compile(r"^[0-9a-f]{64}$")
SIGNATURE_LENGTH = 32  # hex characters: 128 bits


class UnsubscribeTokens:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def token(self, recipient_hash: str) -> str:
        return f"{recipient_hash}.{self._signature(recipient_hash)}"

    def recipient(self, token: str) -> str | None:
        """The recipient hash the token names, or None when it is not one of ours."""
        recipient_hash, _, signature = token.partition(".")
        if not RECIPIENT_HASH.match(recipient_hash) or not signature.isascii():
            return None
        expected = self._signature(recipient_hash)
        return recipient_hash if hmac.compare_digest(expected, signature) else None

    def _signature(self, recipient_hash: str) -> str:
        digest = hmac.new(self._key, recipient_hash.encode(), hashlib.sha256).hexdigest()
        return digest[:SIGNATURE_LENGTH]
