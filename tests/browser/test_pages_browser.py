"""The CSM pages in a real headless Chromium: sign in, portfolio vs the API, an account,
recording a touchpoint, another CSM's 403. One small world and one server for the module."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright import sync_api as playwright_api

from serving.app import create_app
from tests.browser.server import chromium_path, serve, sign_in
from tests.support.pages import PASSWORD, PagesWorld, build_world, short_term_accounts
from tests.support.serving import API_KEY

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> PagesWorld:
    return build_world(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def base_url(world: PagesWorld) -> Iterator[str]:
    with serve(create_app(world.settings, world.service)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []

    def seen(dialog) -> None:  # an alert would mean a name ran as script
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", seen)
    page.dialogs = dialogs
    yield page
    context.close()


def api_scores(base_url: str, ids: list[str]) -> dict[str, dict]:
    answer = httpx.post(
        f"{base_url}/v1/score", json={"account_ids": ids}, headers={"X-API-Key": API_KEY}
    )
    assert answer.status_code == 200, answer.text
    return {s["account_id"]: s for s in answer.json()["scores"]}


def money(text: str) -> float:
    return float(re.sub(r"[^0-9.]", "", text))


def test_sign_in_then_the_portfolio_matches_the_api(page, base_url: str, world: PagesWorld) -> None:
    page.goto(f"{base_url}/app")
    assert "/app/login" in page.url  # no session: sent to sign in
    sign_in(page, base_url, world.csm, PASSWORD)
    assert world.csm_owner in page.inner_text("[data-testid=signed-in-as]")
    ids = page.eval_on_selector_all(
        "[data-testid=portfolio] tbody tr[data-account-id]",
        "rows => rows.map(r => r.dataset.accountId)",
    )
    scores = api_scores(base_url, list(world.service.features.latest.account_ids))
    owners = dict(
        world.service.features.source.con.execute(
            "SELECT account_id, csm_owner FROM accounts"
        ).fetchall()
    )
    mine = [a for a in scores if owners[a] == world.csm_owner]
    assert sorted(ids) == sorted(mine) and len(ids) >= 3
    assert ids == sorted(mine, key=lambda a: (-scores[a]["arr_at_risk"], a))
    total = money(page.inner_text("[data-testid=total-arr-at-risk]"))
    assert total == pytest.approx(sum(scores[a]["arr_at_risk"] for a in mine), abs=1)
    renewals = int(page.inner_text("[data-testid=total-renewals]"))
    short = short_term_accounts(world)  # renew every term: counted apart
    assert renewals == sum(scores[a]["days_to_renewal"] <= 90 for a in mine if a not in short)
    high = int(page.inner_text("[data-testid=total-high-risk]"))
    assert high == sum(scores[a]["risk_tier"] == "high" for a in mine)


def test_an_account_shows_why_and_what_to_do_and_records_a_touchpoint(
    page, base_url: str, world: PagesWorld
) -> None:
    sign_in(page, base_url, world.csm, PASSWORD)
    page.click(f"tr[data-account-id='{world.script_account}'] a")
    page.wait_for_url(f"{base_url}/app/accounts/{world.script_account}")
    assert page.inner_text("[data-testid=account-name]") == '<script>alert("owned")</script> Labs'
    assert page.dialogs == []  # the name stayed text
    score = api_scores(base_url, [world.script_account])[world.script_account]
    drivers = page.inner_text("[data-testid=drivers]")
    assert score["drivers"] and all(d["sentence"] in drivers for d in score["drivers"])
    actions = page.inner_text("[data-testid=actions]")
    assert score["actions"] and all(a["reason"] in actions for a in score["actions"])
    assert page.locator("[data-testid=trend-chart] circle.churn").count() == 12
    page.select_option("[data-testid=record-form] select[name=type]", "exec_sponsor_call")
    page.fill("[data-testid=record-form] textarea[name=notes]", "CFO call: renewal back on track")
    page.click("[data-testid=record-form] button[type=submit]")
    page.wait_for_selector("text=Recorded.")
    timeline = page.inner_text("[data-testid=timeline]")
    assert "Exec sponsor call" in timeline and "CFO call: renewal back on track" in timeline
    page.reload()  # the same form is not posted again, and the touchpoint stays
    assert page.inner_text("[data-testid=timeline]").count("CFO call: renewal back on track") == 1


def test_another_csm_gets_403_on_the_account(page, base_url: str, world: PagesWorld) -> None:
    sign_in(page, base_url, world.other_csm, PASSWORD)
    response = page.goto(f"{base_url}/app/accounts/{world.script_account}")
    assert response.status == 403
    assert "another CSM" in page.inner_text("main")
    ids = page.eval_on_selector_all("tr[data-account-id]", "rows => rows.length")
    assert ids == 0
    page.goto(f"{base_url}/app")
    assert world.script_account not in page.content()
