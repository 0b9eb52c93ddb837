"""Turn a stored column into its canonical contract type, in DuckDB SQL.

A source stores columns however its system does: all text in a CSV, native
types in Parquet or a database. `typed_expression` gives the one SQL expression
that reads a stored column as the contract type; it yields NULL for a value it
cannot read, so validation counts those values and the typed views never guess.
"""

from __future__ import annotations

from features.contract import BOOL, DATE, FLOAT, INT, STRING, TIMESTAMP, Column

TRUE_WORDS = ("true", "t", "yes", "y", "1")
FALSE_WORDS = ("false", "f", "no", "n", "0")

_INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")
_UNSIGNED_TYPES = ("UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT")
_FLOAT_TYPES = ("FLOAT", "DOUBLE", "REAL")
TEXT_TYPE = "VARCHAR"


def quote(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _kind(stored_type: str) -> str:
    """Classify a DuckDB type name: text, integer, float, decimal, bool, date, timestamp..."""
    upper = stored_type.upper()
    if upper in ("NULL", '"NULL"'):  # a column with no values at all (Parquet's null type)
        return "null"
    if upper == TEXT_TYPE or upper.startswith("VARCHAR"):
        return "text"
    if upper in _INTEGER_TYPES or upper in _UNSIGNED_TYPES:
        return "integer"
    if upper in _FLOAT_TYPES:
        return "float"
    if upper.startswith("DECIMAL"):
        return "decimal"
    if upper == "BOOLEAN":
        return "bool"
    if upper == "DATE":
        return "date"
    if upper == "TIMESTAMP WITH TIME ZONE":
        return "timestamptz"
    if upper.startswith("TIMESTAMP"):
        return "timestamp"
    return "other"


def _integral(number: str) -> str:
    """SQL: the number when it is a whole finite number, else NULL."""
    return f"CASE WHEN isfinite({number}) AND {number} = trunc({number}) THEN {number} END"


def _text_to(target: str, value: str) -> str | None:
    text = f"trim({value})"
    if target == STRING:
        return value
    if target == TIMESTAMP:
        # Session TimeZone is UTC: a zone converts to UTC, no zone is read as UTC.
        return f"CAST(TRY_CAST({text} AS TIMESTAMPTZ) AS TIMESTAMP)"
    if target == DATE:
        return f"TRY_CAST({text} AS DATE)"
    if target == FLOAT:
        number = f"TRY_CAST({text} AS DOUBLE)"
        return f"CASE WHEN isfinite({number}) THEN {number} END"
    if target == INT:
        return f"CAST({_integral(f'TRY_CAST({text} AS DOUBLE)')} AS BIGINT)"
    if target == BOOL:
        words = f"lower({text})"
        true_list = ", ".join(f"'{w}'" for w in TRUE_WORDS)
        false_list = ", ".join(f"'{w}'" for w in FALSE_WORDS)
        return (
            f"CASE WHEN {words} IN ({true_list}) THEN TRUE "
            f"WHEN {words} IN ({false_list}) THEN FALSE END"
        )
    return None


def _native_to(target: str, kind: str, value: str) -> str | None:
    numeric = kind in ("integer", "float", "decimal")
    if target == STRING:
        if kind in ("float", "decimal"):
            # An integer id that went through a float column still reads as "1", not "1.0".
            whole = _integral(f"CAST({value} AS DOUBLE)")
            return (
                f"CASE WHEN ({whole}) IS NOT NULL THEN CAST(CAST({value} AS HUGEINT) AS VARCHAR) "
                f"ELSE CAST({value} AS VARCHAR) END"
            )
        return f"CAST({value} AS VARCHAR)" if kind != "other" else None
    if target == TIMESTAMP and kind in ("timestamp", "timestamptz", "date"):
        return f"CAST({value} AS TIMESTAMP)"
    if target == DATE and kind in ("timestamp", "timestamptz", "date"):
        return f"CAST({value} AS DATE)"
    if target == FLOAT and numeric:
        number = f"CAST({value} AS DOUBLE)"
        return f"CASE WHEN isfinite({number}) THEN {number} END"
    if target == INT and numeric:
        if kind == "integer":
            return f"CAST({value} AS BIGINT)"
        return f"CAST({_integral(f'CAST({value} AS DOUBLE)')} AS BIGINT)"
    if target == BOOL and kind == "bool":
        return value
    if target == BOOL and kind == "integer":
        return f"CASE WHEN {value} = 1 THEN TRUE WHEN {value} = 0 THEN FALSE END"
    return None


def typed_expression(column: Column, stored_type: str) -> str | None:
    """SQL reading the stored column as its contract type, NULL where a value is unreadable.

    Args:
        column: The contract column.
        stored_type: The DuckDB type the source stores it as (from DESCRIBE).

    Returns:
        An SQL expression over the quoted column name, or None when the stored type
        cannot hold the contract type at all (e.g. a boolean where a date belongs).
    """
    value = quote(column.name)
    kind = _kind(stored_type)
    if kind == "null":  # an empty optional column exported by pandas or pyarrow
        return f"CAST(NULL AS {column.type})"
    if kind == "text":
        return _text_to(column.type, value)
    return _native_to(column.type, kind, value)


def describe(target: str) -> str:
    """A user-facing word for a contract type."""
    return {
        STRING: "text",
        INT: "a whole number",
        FLOAT: "a number",
        BOOL: f"a boolean ({'/'.join(TRUE_WORDS[:2])} or {'/'.join(FALSE_WORDS[:2])})",
        DATE: "an ISO-8601 date",
        TIMESTAMP: "an ISO-8601 timestamp",
    }[target]
