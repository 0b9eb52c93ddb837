"""Keep credentials out of anything shown: logs, `/readyz`, CLI messages.

A registry or database URI may carry a password (`http://user:pw@host/`,
`postgresql://user:pw@host/db`, `?password=...`, `?token=...`). `redact` replaces the
secret parts of every URI inside a text with `***`, so an error message that quotes the
URI can still be shown.
"""

from __future__ import annotations

import re

MASK = "***"
# scheme://user:password@ or scheme://token@ (the userinfo part of any URI)
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/\s@'\"]+)@")
# key=value pairs whose key names a secret, in a query string or a DSN
_SECRET_PARAM = re.compile(
    r"(?P<key>\b(?:password|passwd|pwd|token|secret|api[_-]?key|access[_-]?key|auth)\w*)"
    r"(?P<sep>=)(?P<value>[^&\s'\"]+)",
    re.IGNORECASE,
)


def redact(text: object) -> str:
    """`text` with every URI's user, password and secret query values replaced by `***`."""
    shown = _USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", str(text))
    return _SECRET_PARAM.sub(lambda m: f"{m['key']}{m['sep']}{MASK}", shown)


def describe_error(error: BaseException) -> str:
    """`Type: message` of an exception, with credentials redacted."""
    return redact(f"{type(error).__name__}: {error}")
