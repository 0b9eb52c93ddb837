"""Data shapes other companies export: which optional tables, id formats, timestamp styles.

The simulated world is the same; only how it is exported changes, so a test can prove
that retain reads any of these shapes (`SimConfig.tables`, `id_style`, `timestamps`).
The ground truth is relabelled with the same ids. Zoned timestamps are written with
their zone by `simulator.writer` (the frames stay naive UTC, the same instants).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from features.contract import TABLES, TIMESTAMP

OPTIONAL_TABLES: tuple[str, ...] = tuple(name for name, t in TABLES.items() if not t.required)
IdStyle = Literal["plain", "spaces", "unicode", "leading_zeros"]
TimestampStyle = Literal["seconds", "subsecond", "zoned"]
ZONE = "Europe/Berlin"  # zoned timestamps: local time with its offset, across DST changes


def _id_map(ids: pd.Series, style: IdStyle, kind: str) -> dict[str, str]:
    """Old id -> id in `style` (one-to-one)."""
    unique = pd.unique(ids.dropna())
    if style == "spaces":
        word = "Kunde" if kind == "account" else "Nutzer"
        names = [f"{word} {i:04d} GmbH" for i in range(len(unique))]
    elif style == "unicode":
        names = [
            f"客户-{i}-Ä" if kind == "account" else f"ユーザー-{i}-é" for i in range(len(unique))
        ]
    elif style == "leading_zeros":
        base = 0 if kind == "account" else 500_000
        names = [f"{base + i:08d}" for i in range(len(unique))]
    else:
        return {str(u): str(u) for u in unique}
    return dict(zip(map(str, unique), names, strict=True))


def _rename(frames: dict[str, pd.DataFrame], column: str, mapping: dict[str, str]) -> None:
    for frame in frames.values():
        if column in frame:
            frame[column] = frame[column].map(mapping).where(frame[column].notna(), None)


def _subsecond(tables: dict[str, pd.DataFrame], rng: np.random.Generator) -> None:
    """Add a random fraction of a second to every timestamp (the instants move < 1 s)."""
    for name, frame in tables.items():
        for column in TABLES[name].columns:
            if column.type == TIMESTAMP and column.name in frame:
                stamps = pd.to_datetime(frame[column.name]).astype("datetime64[us]")
                fraction = pd.to_timedelta(rng.integers(1, 999_999, len(frame)), unit="us")
                frame[column.name] = stamps + fraction


def reshape(
    tables: dict[str, pd.DataFrame],
    truth: dict[str, pd.DataFrame],
    keep: tuple[str, ...],
    id_style: IdStyle,
    timestamps: TimestampStyle,
    rng: np.random.Generator,
) -> None:
    """Export the world in another company's shape, in place.

    Args:
        tables: the contract tables (required ones always stay).
        truth: the ground-truth frames (their account ids follow the tables').
        keep: the optional tables to keep; the others are dropped.
        id_style: `plain` (acc_00012), `spaces`, `unicode` or `leading_zeros` ids for
            accounts and users.
        timestamps: `seconds`, `subsecond` (fractions of a second) or `zoned` (written
            with the `ZONE` offset by the writer).
        rng: randomness for the sub-second fractions.
    """
    unknown = set(keep) - set(OPTIONAL_TABLES)
    if unknown:
        raise ValueError(f"not optional contract tables: {sorted(unknown)}")
    for name in OPTIONAL_TABLES:
        if name not in keep:
            tables.pop(name, None)
    if id_style != "plain":
        accounts = _id_map(tables["accounts"]["account_id"], id_style, "account")
        users = _id_map(tables["users"]["user_id"], id_style, "user")
        _rename(tables, "account_id", accounts)
        _rename(truth, "account_id", accounts)
        _rename(tables, "user_id", users)
    if timestamps == "subsecond":
        _subsecond(tables, rng)
