"""The CLI of users, tokens, grants and keys as an operator uses it, in subprocesses: round
trips, what another user sees by id or prefix, and a wrong key refused with exit 2."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from tests.test_cli_run import EXAMPLE, _instance, amc, home, run_sql

__all__ = ["home"]  # the fixture, shared with tests/test_cli_run.py
B = "b@example.com"


def _json(home: Path, *args: str) -> Any:
    done = amc(home, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _refused(home: Path, *args: str, fragment: str, stdin: str | None = None) -> None:
    done = amc(home, *args, stdin=stdin)
    assert done.returncode == 2, (args, done.stdout, done.stderr)
    assert fragment in done.stderr and done.stderr.count("\n") == 1, done.stderr


def test_users_tokens_and_grants(home: Path) -> None:
    instance = _instance(home)
    created = amc(home, "users", "create", B, "--password", "-", stdin="correct horse\n")
    assert created.returncode == 0 and B in created.stdout and "member" in created.stdout
    _refused(home, "users", "create", B, fragment="already exists")
    users = {u["email"]: u for u in _json(home, "users", "list")}
    assert users["local@amc-manager"]["role"] == "admin"
    assert users[B]["role"] == "member" and users[B]["has_password"] is True
    assert amc(home, "users", "set-password", B, stdin="battery staple\n").returncode == 0

    token = amc(home, "tokens", "create", "--as", B, "--name", "ci", "--expires-in", "30")
    assert token.returncode == 0, token.stderr
    assert re.fullmatch(r"amc_[A-Za-z0-9_-]{40,}", token.stdout.splitlines()[0])
    [listed] = _json(home, "tokens", "list", "--as", B)
    assert listed["name"] == "ci" and listed["expires_at"] and listed["last_used_at"] is None
    assert token.stdout.splitlines()[0] not in json.dumps(listed)
    assert amc(home, "tokens", "revoke", listed["id"], "--as", B).returncode == 0
    assert _json(home, "tokens", "list", "--as", B) == []

    ran = run_sql(home, str(EXAMPLE), instance, "--no-wait")
    assert ran.returncode == 0, ran.stderr
    execution = ran.stdout.splitlines()[0]
    assert _json(home, "executions", "list", "--as", B) == []
    assert _json(home, "instances", "list", "--as", B) == []
    _refused(home, "executions", "show", execution[:8], "--as", B, fragment="unknown execution")
    _refused(home, "results", execution, "--as", B, fragment="unknown execution")

    assert amc(home, "instances", "grant", instance, B).returncode == 0
    [seen] = _json(home, "instances", "list", "--as", B)
    assert seen["instance_id"] == instance and seen["access"] == "granted"
    assert _json(home, "executions", "show", execution[:8], "--as", B)["id"] == execution
    assert amc(home, "instances", "revoke", instance, B).returncode == 0
    _refused(home, "executions", "cancel", execution, "--as", B, fragment="unknown execution")

    assert amc(home, "users", "disable", B).returncode == 0
    _refused(home, "tokens", "create", "--as", B, fragment="disabled")
    removed = amc(home, "auth", "remove")
    assert removed.returncode == 0 and "1 account connection" in removed.stderr


def test_rotate_key_and_wrong_keys_exit_2(home: Path) -> None:
    old, new, stranger = (Fernet.generate_key().decode() for _ in range(3))
    stored = amc(
        home, "auth", "add-token", "--refresh-token", "Atzr|secret", env={"FERNET_KEY": old}
    )
    assert stored.returncode == 0, stored.stderr
    wrong = amc(home, "executions", "list", env={"FERNET_KEY": stranger})
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1
    assert "FERNET_KEY does not match" in wrong.stderr
    assert not any(key in wrong.stderr + wrong.stdout for key in (old, new, stranger))
    rotated = amc(home, "db", "rotate-key", env={"FERNET_KEY": f"{new},{old}"})
    assert rotated.returncode == 0 and "1 token(s)" in rotated.stdout, rotated.stderr
    assert amc(home, "executions", "list", env={"FERNET_KEY": new}).returncode == 0
    assert amc(home, "executions", "list", env={"FERNET_KEY": old}).returncode == 2
    secret = {"FERNET_KEY": new, "AMC_SECRET_KEY": "s" * 40}
    assert amc(home, "executions", "list", env=secret).returncode == 0
    other = amc(home, "executions", "list", env={**secret, "AMC_SECRET_KEY": "t" * 40})
    assert other.returncode == 2 and "AMC_SECRET_KEY does not match" in other.stderr
