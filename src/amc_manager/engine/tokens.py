"""The client's TokenStore over the database: tokens kept only as Fernet ciphertext."""

from __future__ import annotations

from amc_manager.client.crypto import TokenCipher
from amc_manager.client.secret import Secret
from amc_manager.client.tokens import AccessToken
from amc_manager.store import Store


class DatabaseTokenStore:
    """Implements `amc_manager.client.TokenStore` for every user of one LwA client id."""

    def __init__(self, store: Store, cipher: TokenCipher, client_id: str) -> None:
        self._store = store
        self._cipher = cipher
        self._client_id = client_id

    async def refresh_token(self, user: str) -> Secret | None:
        row = await self._store.token_row(user)
        if row is None or not row["refresh_token"]:
            return None
        return self._cipher.decrypt(row["refresh_token"])

    async def save_refresh_token(self, user: str, token: Secret) -> None:
        await self._store.save_tokens(
            user,
            self._client_id,
            refresh_token=self._cipher.encrypt(token),
            access_token=None,
            access_expires_at=None,
        )

    async def access_token(self, user: str) -> AccessToken | None:
        row = await self._store.token_row(user)
        if row is None or row["access_token"] is None or row["access_expires_at"] is None:
            return None
        return AccessToken(self._cipher.decrypt(row["access_token"]), row["access_expires_at"])

    async def save_access_token(self, user: str, token: AccessToken) -> None:
        await self._store.save_tokens(
            user,
            self._client_id,
            access_token=self._cipher.encrypt(token.value),
            access_expires_at=token.expires_at,
        )
