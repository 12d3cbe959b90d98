"""Every notebook runs top to bottom on CPU (a failing cell fails the suite), and none is
committed with outputs. Outputs go to a temporary folder ($NETRAL_NOTEBOOK_OUT)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 600


def test_the_four_notebooks_are_there() -> None:
    assert [p.stem for p in NOTEBOOKS] == [
        "01_explore_corpus",
        "02_train_and_compare",
        "03_error_analysis",
        "04_active_learning",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    for k, cell in enumerate(nb["cells"]):
        assert not cell.get("outputs"), f"{path.name}: cell {k} has outputs; clear them"
        assert cell.get("execution_count") is None, f"{path.name}: cell {k} was executed"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    if "02_" in path.name:
        pytest.importorskip("torch")
    monkeypatch.setenv("NETRAL_NOTEBOOK_OUT", str(tmp_path))
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.perf_counter()
    client.execute()  # raises CellExecutionError naming the cell that failed
    print(f"{path.name}: {time.perf_counter() - started:.1f} s")
