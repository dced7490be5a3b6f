"""Users and sessions through ``api.security`` over the real database: changes that must end sessions do, others
keep them; disabling and enabling; the checks that refuse bad roles and short passwords before anything is stored.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.security import (
    Principal,
    authenticate,
    create_user,
    list_users,
    open_session,
    session_for_cookie,
    update_user,
)
from common.settings import Settings
from store.db import Pool, connect, make_pool, transaction

PASSWORD = "correct horse battery"


@pytest.fixture
def pool(settings: Settings) -> Iterator[Pool]:
    opened = make_pool(settings.require_database_url(), min_size=1, max_size=2, name="test-accounts")
    opened.wait(10)
    yield opened
    opened.close()


def _signed_in(pool: Pool, name: str) -> str:
    cookie, _ = open_session(pool, Principal(name, "operator"), username=name)
    return cookie


def test_a_new_display_name_keeps_sessions_a_new_password_ends_them(pool: Pool) -> None:
    with transaction(pool) as conn:
        create_user(conn, "olga", PASSWORD, "operator")
    cookie = _signed_in(pool, "olga")
    with transaction(pool) as conn:
        assert update_user(conn, "olga", display_name="Olga (night shift)")
    assert session_for_cookie(pool, cookie) is not None
    with transaction(pool) as conn:
        assert update_user(conn, "olga", password="another long one")
    assert session_for_cookie(pool, cookie) is None
    assert authenticate(pool, "olga", PASSWORD) is None
    assert authenticate(pool, "olga", "another long one") == Principal("olga", "operator")


def test_disable_then_enable(pool: Pool) -> None:
    with transaction(pool) as conn:
        create_user(conn, "olga", PASSWORD, "viewer", display_name="Olga")
        assert update_user(conn, "olga", disabled=True)
    assert authenticate(pool, "olga", PASSWORD) is None
    with pool.connection() as conn:
        assert [(u["username"], u["display_name"], u["disabled"]) for u in list_users(conn)] == [
            ("olga", "Olga", True)]
    with transaction(pool) as conn:
        assert update_user(conn, "olga", disabled=False)
    assert authenticate(pool, "olga", PASSWORD) == Principal("olga", "viewer")


def test_unknown_users_and_bad_values_change_nothing(settings: Settings) -> None:
    with connect(settings.require_database_url()) as conn:
        assert update_user(conn, "nobody", role="admin") is False
        with pytest.raises(ValueError, match="role must be one of"):
            create_user(conn, "olga", PASSWORD, "root")
        with pytest.raises(ValueError, match="at least 8 characters"):
            create_user(conn, "olga", "short", "viewer")
        assert list_users(conn) == []
