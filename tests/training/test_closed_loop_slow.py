"""The closed loop end to end on a tiny world: same seeds, same result; the store holds it all."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from features.contract import ACTION_CODES
from store import Store
from training.closed_loop import LoopSettings, run_closed_loop
from training.closed_loop_score import LoopReport

pytestmark = pytest.mark.slow

TINY = LoopSettings(
    accounts=90,
    seed=4,
    burn_in=8,
    months=2,
    follow=0.75,
    control_share=0.3,  # wide slices, so a tiny plan has some
    random_share=0.3,
    arms=("randomized", "not_randomized"),
)


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> tuple[LoopReport, Path]:
    folder = tmp_path_factory.mktemp("loop")
    return run_closed_loop(TINY, folder, report=lambda _line: None), folder


def test_same_seeds_give_the_same_months(loop: tuple[LoopReport, Path], tmp_path: Path) -> None:
    report, _ = loop
    again = run_closed_loop(
        LoopSettings(**{**TINY.__dict__, "arms": ("randomized",)}), tmp_path, report=print
    )
    first = report.frame()
    pd.testing.assert_frame_equal(
        first[first["arm"] == "randomized"].reset_index(drop=True), again.frame()
    )


def plans(folder: Path, arm: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    with Store(f"sqlite:///{folder / f'{arm}.db'}") as store:
        weeks = store.plans()["week"]
        lines = pd.concat([store.plan_lines(date.fromisoformat(str(w)[:10])) for w in weeks])
        return lines, store.touchpoints()


@pytest.mark.parametrize("arm", ["randomized", "not_randomized"])
def test_touchpoints_land_in_the_store_and_follow_plan_lines(
    loop: tuple[LoopReport, Path], arm: str
) -> None:
    report, folder = loop
    lines, touchpoints = plans(folder, arm)
    result = report.arms[arm]
    assert result.stored_plans == TINY.months
    assert len(touchpoints) == result.stored_touchpoints == sum(m.done for m in result.months) > 0
    followed = touchpoints.merge(lines, on="plan_line_id", suffixes=("", "_line"))
    assert len(followed) == len(touchpoints)  # every touchpoint names its plan line
    assert (followed["type"] == followed["action"]).all()
    assert (followed["account_id"] == followed["account_id_line"]).all()
    assert not (followed["arm"] == "control").any()
    doable = lines["arm"].isin(["planned", "random"]).sum()
    assert 0.5 * TINY.follow * doable <= len(touchpoints) <= doable


def test_randomized_lines_only_where_configured(loop: tuple[LoopReport, Path]) -> None:
    _, folder = loop
    randomized, _ = plans(folder, "randomized")
    plain, _ = plans(folder, "not_randomized")
    assert {"control", "random"} <= set(randomized["arm"])
    assert set(plain["arm"]) == {"planned"}
    assert (plain["assignment_probability"] == 1.0).all()


def test_the_report_has_every_month_and_a_true_value(loop: tuple[LoopReport, Path]) -> None:
    report, _ = loop
    frame = report.frame()
    assert len(frame) == len(TINY.arms) * TINY.months
    assert frame["mae_pts"].notna().all() and (frame["mae_pts"] > 0).all()
    for _, months in frame.groupby("arm"):  # labels only pile up as renewals are decided
        assert months["training_rows"].is_monotonic_increasing
        assert months["training_rows"].min() > 0
    assert "randomized" in report.describe()
    # what the learner saw each action fix by the next snapshot, month by month
    seen = [part for cell in frame["fixes"] for part in filter(None, cell.split("; "))]
    assert all(p.split(":")[0] in ACTION_CODES for p in seen)
