"""Throughput and memory of `netral score`, end to end.

Generates a synthetic feed (posts of about 40 words from Indonesian political and
everyday vocabulary: realistic enough for speed, meaningless for accuracy), then runs
`netral score` as a subprocess with ``--workers 1`` and with the default (every core),
and again with the default on a quarter of the rows to show that memory stays flat.
Peak RSS is sampled from /proc over the whole process tree (the scorer and its workers,
summed; pages shared between processes are counted in each), and the CPU time of the
tree is read when it ends (rows/s depend on what else runs on the machine; CPU
microseconds per row much less). Finally it times the stages in this process (read,
predict, encode, write) to show where the time goes.

    python bench/score_throughput.py [--rows 200000] [--model DIR]

The last line holds every figure as key=value pairs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

from netral_nlp.io import read_chunks
from netral_nlp.model import default_model_dir, load_model
from netral_nlp.output import RowWriter, encode_rows

ASN = "ASN PNS camat lurah sekda guru bidan kadis kabid kasubag honorer penyuluh".split()
POLITICAL = (
    "kampanye paslon caleg capres cawapres partai pilkada pemilu coblos dukung relawan "
    "deklarasi baliho spanduk atribut kaos salam jari nomor menang suara TPS KPU Bawaslu "
    "debat visi misi koalisi tim sukses pasangan calon bupati gubernur walikota"
).split()
EVERYDAY = (
    "macet hujan banjir makan siang pagi kantor rapat anggaran laporan jalan pasar harga "
    "cabai beras sekolah anak libur lebaran mudik kopi warung motor bensin masjid arisan "
    "keluarga teman kemarin besok semoga terima kasih selamat ulang tahun panen sawah "
    "kebun sapi nasi goreng bakso sate hujan deras jembatan puskesmas posyandu imunisasi"
).split()
FILLER = (
    "yang di ke dari dan ini itu untuk dengan sudah belum akan juga ada tidak kita saya "
    "kami mereka sangat lagi mau bisa harus biar aja banget nih dong ya"
).split()
AUTHORS = ("Kasubag Umum BPKAD Kab. Banyumas", "guru SDN 3 Wonosobo | PNS", "warga biasa", None)


def post(rng: random.Random, partisan: bool, asn: bool) -> str:
    """About 40 words; partisan posts mix in campaign words, ASN ones a civil-service role."""
    words = [rng.choice(FILLER if rng.random() < 0.4 else EVERYDAY) for _ in range(40)]
    if partisan:
        for i in rng.sample(range(40), 8):
            words[i] = rng.choice(POLITICAL)
    if asn:
        words[rng.randrange(40)] = rng.choice(ASN)
    return " ".join(words)


def write_feed(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        for k in range(rows):
            partisan, asn = rng.random() < 0.15, rng.random() < 0.3
            row = {
                "id": f"b-{k}",
                "text": post(rng, partisan, asn),
                "author_context": rng.choice(AUTHORS),
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def throwaway_model(directory: Path) -> Path:
    """A baseline fitted on 600 synthetic posts, for machines without the shipped model."""
    from netral_nlp.train import fit_baseline

    rng = random.Random(11)
    items = []
    for k in range(600):
        partisan, asn = k % 2 == 0, k % 3 == 0
        flag = partisan and asn
        text = post(rng, partisan, asn)
        items.append(
            SimpleNamespace(text=text, flag=flag, categories=["kampanye_medsos"] if flag else [])
        )
    fit_baseline(items, name="bench-throwaway", version="0").save(directory)
    return directory


def tree_rss_bytes(root: int) -> int:
    """Summed RSS of ``root`` and its descendants, from /proc."""
    parents, rss = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid], rss[pid] = int(fields[1]), int(fields[21]) * 4096
    tree, frontier = {root}, [root]
    while frontier:
        kids = [p for p, parent in parents.items() if parent in frontier and p not in tree]
        tree.update(kids)
        frontier = kids
    return sum(rss.get(p, 0) for p in tree)


def run_score(
    feed: Path, out: Path, model: Path, workers: int | None
) -> tuple[float, float, float]:
    """(wall seconds, peak tree RSS in MiB, CPU seconds of the process tree) of one
    `netral score` run. The CPU time holds when other work shares the machine, which the
    wall time does not."""
    cmd = [
        sys.executable,
        "-m",
        "netral_nlp.cli",
        "score",
        str(feed),
        "-o",
        str(out),
        "--model",
        str(model),
        "-q",
    ]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    cpu_before = _children_cpu()
    code, seconds, peak = watch(cmd)
    if code != 0:
        raise SystemExit(f"netral score failed: {' '.join(cmd)}")
    return seconds, peak / 2**20, _children_cpu() - cpu_before


def watch(cmd: list[str], stop: Callable[[], bool] | None = None) -> tuple[int, float, int]:
    """Run ``cmd`` and sample its process tree's RSS every 0.2 s; SIGKILL it as soon as
    ``stop()`` holds. Returns (exit code, seconds, peak RSS in bytes)."""
    peak = 0
    started = time.perf_counter()
    proc = subprocess.Popen(cmd)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.2):
            peak = max(peak, tree_rss_bytes(proc.pid))
            if stop is not None and stop():
                proc.send_signal(signal.SIGKILL)
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = proc.wait()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return code, seconds, peak


def _children_cpu() -> float:
    """User + system seconds of the finished child processes (and the workers they
    waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def stage_times(
    feed: Path, model: Path, sample_rows: int, batch_size: int = 2048
) -> dict[str, float]:
    """Microseconds per row of each stage, measured in this process on the first
    ``sample_rows`` rows (read on the whole feed)."""
    started = time.perf_counter()
    n_read = sum(len(c.rows) for c in read_chunks(feed, batch_size=batch_size))
    read_us = (time.perf_counter() - started) / n_read * 1e6
    clf = load_model(model)
    predict = encode = write = 0.0
    n = 0
    with tempfile.TemporaryDirectory() as tmp, RowWriter(Path(tmp) / "out.jsonl") as writer:
        for chunk in read_chunks(feed, batch_size=batch_size):
            t0 = time.perf_counter()
            preds = clf.predict(
                [r.text for r in chunk.rows], [r.author_context for r in chunk.rows]
            )
            t1 = time.perf_counter()
            rows = [
                p.row(r.id, clf.manifest.model_id) for r, p in zip(chunk.rows, preds, strict=True)
            ]
            encoded = encode_rows(rows, "jsonl")
            t2 = time.perf_counter()
            writer.write(encoded)
            t3 = time.perf_counter()
            predict, encode, write = predict + t1 - t0, encode + t2 - t1, write + t3 - t2
            n += len(chunk.rows)
            if n >= sample_rows:
                break
    return {
        "read_us_per_row": read_us,
        "predict_us_per_row": predict / n * 1e6,
        "encode_us_per_row": encode / n * 1e6,
        "write_us_per_row": write / n * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000, help="rows of the large feed")
    parser.add_argument("--model", type=Path, help="model directory (default: the shipped one)")
    parser.add_argument(
        "--sample-rows", type=int, default=20_000, help="rows for the stage timings"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="netral-bench-") as tmp:
        work = Path(tmp)
        model = args.model or default_model_dir()
        if not (model / "manifest.json").is_file():
            print(
                f"no model at {model}; fitting a throwaway baseline on synthetic posts",
                file=sys.stderr,
            )
            model = throwaway_model(work / "model")
        small_rows = max(1, args.rows // 4)
        feed, small = work / "feed.jsonl", work / "small.jsonl"
        write_feed(feed, args.rows)
        write_feed(small, small_rows)
        print(f"feed: {args.rows:,} rows, {feed.stat().st_size / 2**20:.1f} MiB; model {model}")

        one_s, one_rss, one_cpu = run_score(feed, work / "out1.jsonl", model, workers=1)
        all_s, all_rss, all_cpu = run_score(feed, work / "out.jsonl", model, workers=None)
        small_s, small_rss, _ = run_score(small, work / "small-out.jsonl", model, workers=None)
        stages = stage_times(feed, model, min(args.sample_rows, args.rows))

    figures = {
        "rows": args.rows,
        "cores": os.cpu_count(),
        "rows_per_s_1w": round(args.rows / one_s),
        "rows_per_s": round(args.rows / all_s),
        "speedup": round(one_s / all_s, 2),
        "peak_rss_mb_1w": round(one_rss),
        "peak_rss_mb": round(all_rss),
        "small_rows": small_rows,
        "peak_rss_mb_small": round(small_rss),
        "rows_per_s_small": round(small_rows / small_s),
        "cpu_us_per_row_1w": round(one_cpu / args.rows * 1e6, 1),
        "cpu_us_per_row": round(all_cpu / args.rows * 1e6, 1),
    } | {k: round(v, 1) for k, v in stages.items()}
    pipeline = stages["read_us_per_row"] + stages["encode_us_per_row"] + stages["write_us_per_row"]
    figures["io_share"] = round(pipeline / (pipeline + stages["predict_us_per_row"]), 3)

    print(
        f"--workers 1: {figures['rows_per_s_1w']:,} rows/s, peak RSS {one_rss:,.0f} MiB, "
        f"{figures['cpu_us_per_row_1w']} us of CPU per row"
    )
    print(
        f"all {os.cpu_count()} cores: {figures['rows_per_s']:,} rows/s, peak RSS {all_rss:,.0f} MiB "
        f"(speedup {figures['speedup']}x), {figures['cpu_us_per_row']} us of CPU per row"
    )
    print(
        f"{small_rows:,} rows on all cores: peak RSS {small_rss:,.0f} MiB (memory flat if close to the above)"
    )
    print(
        "per row in one process: "
        + ", ".join(f"{k.removesuffix('_us_per_row')} {v:.1f} us" for k, v in stages.items())
        + f"; reading, encoding and writing are {figures['io_share']:.1%} of the work"
    )
    print(" ".join(f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
