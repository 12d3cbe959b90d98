"""One local scoring process per GPU, without GPUs: the visible devices are faked through
CUDA_VISIBLE_DEVICES and a stand-in device count."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

from netral_nlp import batch
from netral_nlp.batch import ScoreOptions
from netral_nlp.gpus import CUDA_VISIBLE_DEVICES, assign_devices, visible_devices, worker_env
from netral_nlp.io import InputError

MIG = ["MIG-4b9c2f4e-5d1a-5c8e-9c57-0f5e3c1b9a10", "MIG-8f1e0a3d-2b7c-5a9e-8d46-1c2b3a4d5e6f"]


def test_devices_count_from_torch_when_the_variable_is_unset():
    assert visible_devices({}, count=lambda: 4) == ["0", "1", "2", "3"]
    assert visible_devices({}, count=lambda: 0) == []


def test_a_user_set_list_wins_as_written_indices_and_mig_uuids():
    never = lambda: pytest.fail("the device count must not be asked")  # noqa: E731
    assert visible_devices({CUDA_VISIBLE_DEVICES: "2, 3"}, count=never) == ["2", "3"]
    assert visible_devices({CUDA_VISIBLE_DEVICES: ",".join(MIG)}, count=never) == MIG
    assert visible_devices({CUDA_VISIBLE_DEVICES: ""}, count=never) == []
    assert visible_devices({CUDA_VISIBLE_DEVICES: "1,-1,2"}, count=never) == ["1"]


def test_gpus_takes_the_first_n_and_refuses_more_than_visible():
    assert assign_devices(["2", "3", "5"]) == ["2", "3", "5"]
    assert assign_devices(["2", "3", "5"], gpus=2) == ["2", "3"]
    with pytest.raises(
        ValueError, match=r"--gpus 3 asks for more GPUs than are visible \(2: 2,3\)"
    ):
        assign_devices(["2", "3"], gpus=3)


def _transformer_dir(tmp_path: Path, tiny_model: Path) -> Path:
    """A folder whose manifest says transformer (only the manifest is read)."""
    directory = tmp_path / "model"
    directory.mkdir()
    manifest = json.loads((tiny_model / "manifest.json").read_text())
    (directory / "manifest.json").write_text(json.dumps(manifest | {"kind": "transformer"}))
    return directory


@pytest.fixture
def two_migs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CUDA_VISIBLE_DEVICES, ",".join(MIG))


def test_a_transformer_run_gets_one_worker_per_visible_gpu(
    tmp_path, monkeypatch, tiny_model, two_migs
):
    started: list[tuple[int, list[str] | None]] = []

    def fake_pool(chunks, options, fmt, workers, devices=None):
        started.append((workers, devices))
        return iter(())

    monkeypatch.setattr(batch, "_scored_in_processes", fake_pool)
    model = _transformer_dir(tmp_path, tiny_model)
    chunks = iter([object(), object()])  # two chunks: the pool path
    list(batch._scored(chunks, ScoreOptions(input="x.jsonl", model=model, workers=7), "jsonl"))
    assert started == [(2, MIG)]  # --workers does not apply: one per GPU


def test_no_gpu_worker_for_the_baseline_onnx_or_too_many_gpus(tmp_path, tiny_model, two_migs):
    assert batch._gpu_devices(ScoreOptions(input="x", model=tiny_model)) == []
    model = _transformer_dir(tmp_path, tiny_model)
    assert batch._gpu_devices(ScoreOptions(input="x", model=model, runtime="onnx")) == []
    assert batch._gpu_devices(ScoreOptions(input="x", model=model)) == MIG
    assert batch._gpu_devices(ScoreOptions(input="x", model=model, gpus=1)) == MIG[:1]
    with pytest.raises(InputError, match="--gpus 3 asks for more GPUs than are visible"):
        batch._gpu_devices(ScoreOptions(input="x", model=model, gpus=3))


def test_each_worker_sets_its_own_device_before_loading_the_model(monkeypatch, tiny_model):
    """What a spawned worker runs first: it takes one device from the queue into its env."""
    queue = multiprocessing.get_context("spawn").Queue()
    for device in MIG:
        queue.put(device)
    seen: list[str] = []

    def load_model(model, runtime):
        seen.append(os.environ[CUDA_VISIBLE_DEVICES])  # torch would be imported here
        return object()

    monkeypatch.setattr(batch, "load_model", load_model)
    monkeypatch.setattr(batch.signal, "signal", lambda *a: None)
    monkeypatch.setattr(
        batch.threading, "Thread", lambda **kw: type("T", (), {"start": lambda s: None})()
    )
    for _ in MIG:
        monkeypatch.delenv(CUDA_VISIBLE_DEVICES, raising=False)
        batch._init_worker(tiny_model, "auto", "jsonl", 1, None, device_queue=queue)
    assert seen == MIG
    assert worker_env(MIG[0]) == {CUDA_VISIBLE_DEVICES: MIG[0]}
