"""The service's own store: touchpoints recorded through the API, weekly plans, the score log.

SQLite (WAL) by default, PostgreSQL by URL. Sits beside `actions/` and `simulator/`, above
`features/`: training reads its touchpoints, serving writes them.
"""

from store.combine import combine_touchpoints
from store.engine import DEFAULT_STORE_URL
from store.records import (
    PLAN_COLUMNS,
    PLAN_LINE_COLUMNS,
    SCORE_COLUMNS,
    SCORE_LOG_COLUMNS,
    TOUCHPOINT_COLUMNS,
    Arm,
    Plan,
    PlanConflict,
    PlanLine,
    PlanLineContradiction,
    RecordedTouchpoint,
    StoreError,
    StoreUnavailable,
    Touchpoint,
    TouchpointConflict,
    UnknownPlanLine,
    plan_lines,
)
from store.schema import ARMS, SCHEMA_VERSION
from store.store import Store, open_store

__all__ = [
    "ARMS",
    "DEFAULT_STORE_URL",
    "PLAN_COLUMNS",
    "PLAN_LINE_COLUMNS",
    "SCHEMA_VERSION",
    "SCORE_COLUMNS",
    "SCORE_LOG_COLUMNS",
    "TOUCHPOINT_COLUMNS",
    "Arm",
    "Plan",
    "PlanConflict",
    "PlanLineContradiction",
    "PlanLine",
    "plan_lines",
    "RecordedTouchpoint",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "Touchpoint",
    "TouchpointConflict",
    "UnknownPlanLine",
    "combine_touchpoints",
    "open_store",
]
