"""Touchpoint types that are not action codes: allowed, but `retain validate` says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from features.source import open_source
from features.touchpoint_types import looks_like, validate_note
from features.validate import source_notes, validate_source
from retain.cli import app
from tests.support import tiny_world, write_tables


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("Health Check", "health_check"),
        ("Key-User Replacement", "key_user_replacement"),
        (" TRAINING ", "training"),
        ("health_check", None),  # an exact code is not a near miss
        ("QBR", "business_review"),  # the fourth audit's export: a usual abbreviation
        ("ebr", "business_review"),
        ("QBRs", None),
        ("Health Checks", None),
    ],
)
def test_a_type_looks_like_a_code_but_for_case_spaces_hyphens_or_a_usual_abbreviation(kind, code):
    assert looks_like(kind) == code


def test_exact_codes_need_no_note():
    assert validate_note({"health_check": 3, "training": 1}) is None
    assert validate_note({}) is None


def test_validate_passes_and_notes_title_cased_types(tmp_path: Path):
    tables = tiny_world()
    tables["touchpoints"]["type"] = ["Health Check", "QBR"]
    directory = write_tables(tables, tmp_path / "source", "csv")
    with open_source(directory) as source:
        assert validate_source(source) == []  # the contract allows other types
        assert len(source_notes(source)) == 1

    result = CliRunner().invoke(app, ["validate", "--data", str(directory)])
    assert result.exit_code == 0, result.output
    assert "follows the data contract" in result.output
    note = " ".join(result.output.split())
    assert "2 of 2 touchpoints have a type that is not an action code" in note
    assert "'Health Check' 1 (looks like health_check)" in note and "'QBR' 1" in note
    assert "only exact action codes count as actions" in note
    assert "health_check, not 'Health Check'" in note
    assert "Error" not in result.output


def test_a_source_of_action_codes_gets_no_note(tiny_parquet_dir: Path):
    result = CliRunner().invoke(app, ["validate", "--data", str(tiny_parquet_dir)])
    assert result.exit_code == 0, result.output
    assert "not an action code" not in result.output
