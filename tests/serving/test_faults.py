"""Fault injection: what the service and `retain score` do when the world misbehaves.

Each test breaks one thing the way it breaks in production (a full disk, a registry that
is down or never answers, a corrupt cache entry, a source file changed after start, a
promotion during traffic) and checks that nothing good is lost and the operator is told.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd

from serving.batch import COLUMNS, write_scores

DISK_FULL = textwrap.dedent(
    """
    import resource, signal, sys
    from pathlib import Path
    import pandas as pd
    from serving.batch import COLUMNS, write_scores

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a full disk: writes fail with EFBIG
    frame = pd.DataFrame({column: ["x" * 40] * 20_000 for column in COLUMNS})
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
    write_scores(frame, Path(sys.argv[1]))
    """
)


def test_disk_full_during_retain_score_keeps_the_previous_scores(tmp_path: Path):
    output = tmp_path / "scores.csv"
    good = pd.DataFrame({column: ["kept"] * 3 for column in COLUMNS})
    write_scores(good, output)
    before = output.read_bytes()
    done = subprocess.run(
        [sys.executable, "-c", DISK_FULL, str(output)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode != 0 and "File too large" in done.stderr
    assert output.read_bytes() == before  # the good file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.csv"]  # no partial left
