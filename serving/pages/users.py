"""People who sign in to the pages: CSMs and managers, from a YAML file (`RETAIN_USERS_FILE`).

Separate from the machine API keys. A file looks like::

    users:
      - username: dana
        name: Dana Kim
        role: csm                 # csm: their own accounts; manager: everyone's
        owner: Dana Kim           # the accounts' `csm_owner` (default: name)
        password_hash: "$argon2id$v=19$m=65536,t=3,p=4$..."

Passwords are stored only as argon2 hashes: `python -m serving.pages.users` asks for a
password and prints the line to paste.
"""

from __future__ import annotations

import getpass
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Literal

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

Role = Literal["csm", "manager"]
_HASHER = PasswordHasher()


class User(BaseModel):
    """Someone who signs in to the pages."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")
    name: str = Field(min_length=1, max_length=200)
    role: Role
    owner: str | None = Field(default=None, description="accounts.csm_owner; default: name")
    password_hash: str = Field(pattern=r"^\$argon2(id|i|d)\$")

    @property
    def csm_owner(self) -> str:
        """The `csm_owner` value of this person's accounts."""
        return self.owner or self.name

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"

    def may_see(self, owner: str | None) -> bool:
        """Whether this person may open an account owned by `owner`."""
        return self.is_manager or (owner is not None and owner == self.csm_owner)


class UsersError(ValueError):
    """The users file is missing or wrong (names the file and the entry)."""


class _UsersFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    users: list[User]


def load_users(path: Path | str) -> dict[str, User]:
    """The users of a YAML file by username.

    Raises:
        UsersError: the file cannot be read, an entry is wrong, or a username repeats.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        parsed = _UsersFile.model_validate(raw)
    except OSError as error:
        raise UsersError(f"users file {path}: {error.strerror or error}") from None
    except (yaml.YAMLError, ValidationError) as error:
        raise UsersError(f"users file {path}: {error}") from None
    users: dict[str, User] = {}
    for user in parsed.users:
        if user.username in users:
            raise UsersError(f"users file {path}: username {user.username!r} appears twice")
        users[user.username] = user
    return users


def unknown_owners(
    users: Mapping[str, User], owners: Collection[str], path: Path | str
) -> list[str]:
    """A sentence for each CSM whose owner owns no account in the data (`owners`).

    Said, not refused, as the plan file's owners are (`serving.plan.unknown_owners`): a CSM
    may sign in before their first accounts reach the data, and the whole team's pages
    should not wait on that. But a misspelt owner gave that CSM an empty page without a
    word (the fifth audit), and only CS ops can mend the file, so the sentence names it,
    the user, the field the owner came from and the closest owner in the data.
    """
    from serving.plan import closest_hint

    said = []
    for user in users.values():
        if user.is_manager or user.csm_owner in owners:
            continue
        field = "owner" if user.owner else "name (the owner when `owner` is not given)"
        said.append(
            f"users file {path}: user {user.username!r}, {field}: {user.csm_owner!r} owns no"
            f" account in the data{closest_hint(user.csm_owner, owners)}; their pages will"
            " show no account"
        )
    return said


def hash_password(password: str, hasher: PasswordHasher = _HASHER) -> str:
    """An argon2id hash of `password` for the users file."""
    return hasher.hash(password)


_DUMMY_HASH = hash_password("not a password of anyone")


def authenticate(users: Mapping[str, User], username: str, password: str) -> User | None:
    """The user when the password matches, else None (as slow for unknown names)."""
    user = users.get(username)
    try:
        _HASHER.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def main() -> None:  # pragma: no cover - interactive
    """Ask for a password twice and print its hash (for `password_hash:`)."""
    first = getpass.getpass("password: ")
    if len(first) < 10:
        raise SystemExit("use at least 10 characters")
    if getpass.getpass("again: ") != first:
        raise SystemExit("the two passwords differ")
    print(f'password_hash: "{hash_password(first)}"')


if __name__ == "__main__":
    main()
