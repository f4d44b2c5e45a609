"""The Fernet layer that encrypts stored OAuth tokens with `FERNET_KEY`."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from amc_manager.client.errors import ReauthenticationRequired
from amc_manager.client.secret import Secret
from amc_manager.errors import ConfigurationError


class TokenCipher:
    """Encrypts and decrypts tokens; a wrong key or a damaged value asks for a new login.

    The key is never regenerated silently: a new key would make every stored token unreadable
    (lessons.md, defect 5).
    """

    def __init__(self, key: Secret | str) -> None:
        """`key` is one Fernet key or several separated by commas (FERNET_KEY rotation): the
        first encrypts, any decrypts."""
        raw = key.reveal() if isinstance(key, Secret) else key
        parts = [p.strip() for p in raw.split(",") if p.strip()]
        fernets = []
        for index, part in enumerate(parts, 1):
            try:
                fernets.append(Fernet(part.encode()))
            except (ValueError, TypeError):
                which = f"key {index} of {len(parts)} in " if len(parts) > 1 else ""
                raise ConfigurationError(
                    f"{which}FERNET_KEY is not a valid Fernet key",
                    hint="use 32 url-safe base64-encoded bytes, e.g. from "
                    "`python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'`",
                ) from None
        if not fernets:
            raise ConfigurationError("FERNET_KEY is empty", hint="set it to a Fernet key")
        self._fernet = MultiFernet(fernets)

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()

    def encrypt(self, token: Secret) -> bytes:
        return self._fernet.encrypt(token.reveal().encode())

    def decrypt(self, blob: bytes) -> Secret:
        try:
            return Secret(self._fernet.decrypt(blob).decode())
        except InvalidToken:
            raise ReauthenticationRequired(
                "the stored token cannot be decrypted with the current FERNET_KEY"
            ) from None

    def rotate(self, blob: bytes) -> bytes:
        """The same token encrypted with the first key (`amc db rotate-key`)."""
        try:
            return self._fernet.rotate(blob)
        except InvalidToken:
            raise ReauthenticationRequired(
                "a stored token cannot be decrypted with any FERNET_KEY given"
            ) from None

    def __repr__(self) -> str:
        return "TokenCipher(***)"
