"""A scraped feed at election scale through `netral score`: collapse saving, throughput,
memory, and the resume invariant after a kill.

Generates a synthetic twscrape JSONL.gz feed (posts of 15-60 words from a generator of
invented Indonesian sentences; 10% exact reposts of an earlier post, with the parent's
id; 5% near-duplicates, an earlier post with a word or two changed or added; 0.1%
malformed rows: broken JSON or no text), then runs `netral score FEED -o RUN_DIR` as a
subprocess with the default model:

1. with collapse (the default for a scraped feed): rows/s, peak RSS, the saving;
2. with --no-collapse on the same feed: rows/s, for the ratio;
3. with collapse, killed (SIGKILL) at about half way and resumed: the invariant of
   RELIABILITY.md (ids written + ids rejected == ids read, each once), and the same
   clusters as run 1.

Peak RSS is sampled from /proc over the whole process tree (the scorer and its scoring
processes, summed). The last line holds every figure as key=value pairs.

    python bench/feed_scale.py [--rows 1000000] [--model DIR] [--workers 0]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from score_throughput import watch

from netral_nlp.model import default_model_dir

SUBJECTS = (
    "Pak camat", "Bu lurah", "Kepala dinas pendidikan", "Seorang guru honorer", "Sekda",
    "Warga RT 05", "Bidan desa", "Kabid perencanaan", "Relawan paslon", "Pedagang pasar",
    "Ketua karang taruna", "Penyuluh pertanian", "Kepala sekolah", "Tim sukses caleg",
)  # fmt: skip
VERBS = (
    "mengajak warga", "hadir di", "membagikan kaos", "foto bersama", "berpidato di",
    "mengeluhkan", "memasang baliho di", "menghadiri", "meminta dukungan di", "membahas",
    "mengumumkan", "melaporkan", "memantau", "mendata",
)  # fmt: skip
OBJECTS = (
    "kampanye paslon nomor dua", "deklarasi relawan capres", "rapat anggaran triwulan",
    "posyandu balita", "harga cabai yang naik", "jalan rusak dekat jembatan",
    "pengajian akbar", "panen raya padi", "pembagian sembako partai", "debat kandidat bupati",
    "apel pagi pegawai", "jadwal imunisasi", "lomba tujuh belasan", "banjir di kampung",
)  # fmt: skip
PLACES = (
    "di alun-alun kabupaten", "di balai desa", "di kantor kecamatan", "di lapangan sepak bola",
    "di masjid agung", "di pasar induk", "di aula dinas", "di depan sekolah", "lewat grup WA",
)  # fmt: skip
TIMES = (
    "pagi ini", "kemarin sore", "besok pagi", "minggu depan", "tadi malam", "hari Sabtu",
    "setelah salat Jumat", "saat jam kerja", "menjelang pencoblosan",
)  # fmt: skip
CLOSERS = (
    "Ayo dukung!", "Semoga lancar.", "Mohon ditindaklanjuti.", "Netralitas ASN dipertanyakan.",
    "Mantap sekali.", "Kok bisa begini ya?", "Terima kasih atas perhatiannya.", "#Pemilu2024",
    "Salam dua jari.", "Bawaslu harus turun tangan.", "Warga resah.", "Info lengkap di bio.",
)  # fmt: skip
HANDLES = [f"akun_{i:05d}" for i in range(20_000)]
RECENT = 20_000  # duplicates copy a post among the last RECENT originals


def sentence(rng: random.Random) -> str:
    return (
        f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
        f"{rng.choice(PLACES)} {rng.choice(TIMES)}."
    )


def post(rng: random.Random, serial: int) -> str:
    """Two to five invented sentences and a closer: 15-60 words. The serial number keeps
    two posts from being identical by chance."""
    body = " ".join(sentence(rng) for _ in range(rng.randint(2, 5)))
    return f"{body} {rng.choice(CLOSERS)} (laporan {serial})"


def near_copy(rng: random.Random, text: str) -> str:
    """An earlier post with one small edit: a word appended, or a closer swapped."""
    if rng.random() < 0.5:
        return f"{text} {rng.choice(['ayo', 'cek', 'viral', 'parah', 'setuju'])}"
    return f"{text} {rng.choice(CLOSERS)}"


def tweet(k: int, text: str, rng: random.Random) -> dict[str, Any]:
    author = rng.randrange(len(HANDLES))
    handle = HANDLES[author]
    return {
        "id": 1_800_000_000_000_000_000 + k,
        "id_str": str(1_800_000_000_000_000_000 + k),
        "url": f"https://x.com/{handle}/status/{1_800_000_000_000_000_000 + k}",
        "date": f"2024-02-{1 + k % 28:02d}T{k % 24:02d}:00:00+07:00",
        "rawContent": text,
        "lang": "in",
        "user": {
            "id_str": str(10_000 + author),
            "username": handle,
            "displayname": handle.replace("_", " ").title(),
            "rawDescription": rng.choice(
                ["ASN Dinas Pendidikan Kab. Banyumas", "guru SDN 3 | PNS", "warga biasa", ""]
            ),
        },
        "likeCount": rng.randint(0, 50),
        "retweetCount": rng.randint(0, 20),
    }


def write_feed(path: Path, rows: int, seed: int = 7) -> dict[str, int]:
    """Write the feed; return how many rows of each kind it holds."""
    rng = random.Random(seed)
    originals: list[tuple[str, str, str]] = []  # (id_str, handle, text) of recent originals
    kinds = dict.fromkeys(("original", "repost", "near", "malformed"), 0)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as fh:
        for k in range(rows):
            roll = rng.random()
            if roll < 0.001:
                kinds["malformed"] += 1
                fh.write(
                    f'{{"id": {k}, "rawContent": "cut short\n' if k % 2 else f'{{"id": {k}}}\n'
                )
                continue
            if originals and roll < 0.101:
                kinds["repost"] += 1
                parent_id, parent_handle, text = rng.choice(originals)
                rec = tweet(k, f"RT @{parent_handle}: {text}", rng)
                rec["retweetedTweet"] = {"id_str": parent_id, "rawContent": text}
            elif originals and roll < 0.151:
                kinds["near"] += 1
                rec = tweet(k, near_copy(rng, rng.choice(originals)[2]), rng)
            else:
                kinds["original"] += 1
                rec = tweet(k, post(rng, k), rng)
                originals.append((rec["id_str"], rec["user"]["username"], rec["rawContent"]))
                if len(originals) > RECENT:
                    originals.pop(0)
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return kinds


SHARDS = 20  # shards per run: the kill lands between them, about half way


def score_cmd(
    feed: Path, out: Path, model: Path, rows: int, workers: int, *extra: str
) -> list[str]:
    return [
        sys.executable, "-m", "netral_nlp.cli", "score", str(feed), "-o", str(out),
        "--model", str(model), "--workers", str(workers), "--shard-rows",
        str(max(rows // SHARDS, 1)), "-q", *extra,
    ]  # fmt: skip


def run(cmd: list[str], kill_at: int | None = None, out: Path | None = None) -> dict[str, Any]:
    """Run ``cmd``; sample the process tree's RSS; with ``kill_at``, SIGKILL it once the
    run directory ``out`` lists shards covering that many input records."""
    stop = None
    if kill_at is not None and out is not None:
        run_dir = out

        def stop() -> bool:
            return covered(run_dir) >= kill_at

    code, seconds, peak = watch(cmd, stop)
    if code != 0 and not (kill_at is not None and code == -signal.SIGKILL):
        raise SystemExit(f"netral score failed ({code}): {' '.join(cmd)}")
    return {"seconds": seconds, "peak_mib": peak / 2**20, "killed": code == -signal.SIGKILL}


def covered(directory: Path) -> int:
    try:
        shards = json.loads((directory / "manifest.json").read_text())["shards"]
    except (FileNotFoundError, ValueError):
        return 0
    return shards[-1]["end"] if shards else 0


def run_contents(directory: Path) -> tuple[list[str], int, dict[str, Any]]:
    """(ids written in order, rows rejected, manifest) of a finished run directory."""
    manifest = json.loads((directory / "manifest.json").read_text())
    ids: list[str] = []
    rejected = 0
    for shard in manifest["shards"]:
        with (directory / shard["file"]).open(encoding="utf-8") as fh:
            ids += [json.loads(line)["id"] for line in fh]
        if shard["errors"]:
            rejected += sum(1 for _ in (directory / shard["errors"]).open())
    return ids, rejected, manifest


def totals(manifest: dict[str, Any]) -> dict[str, int]:
    keys = ("rows_read", "scored", "rejected", "model_calls")
    return {k: sum(s.get(k, 0) for s in manifest["shards"]) for k in keys}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the feed")
    parser.add_argument("--model", type=Path, help="model directory (default: the shipped one)")
    parser.add_argument("--workers", type=int, default=0, help="scoring processes (0: per core)")
    args = parser.parse_args()
    model = args.model or default_model_dir()

    with tempfile.TemporaryDirectory(prefix="netral-feed-bench-") as tmp:
        work = Path(tmp)
        feed = work / "feed.jsonl.gz"
        t0 = time.perf_counter()
        kinds = write_feed(feed, args.rows)
        print(f"feed: {args.rows:,} rows {kinds} in {time.perf_counter() - t0:.0f} s, "
              f"{feed.stat().st_size / 2**20:.0f} MiB gzipped")  # fmt: skip

        collapsed = run(score_cmd(feed, work / "collapse", model, args.rows, args.workers))
        ids, rejected, manifest = run_contents(work / "collapse")
        counts = totals(manifest)
        saving = 1 - counts["model_calls"] / counts["scored"]
        rate = args.rows / collapsed["seconds"]
        print(f"collapse:    {rate:,.0f} rows/s, peak RSS {collapsed['peak_mib']:,.0f} MiB, "
              f"{counts['model_calls']:,} model calls for {counts['scored']:,} rows "
              f"(saving {saving:.1%})")  # fmt: skip

        plain = run(
            score_cmd(feed, work / "plain", model, args.rows, args.workers, "--no-collapse")
        )
        plain_rate = args.rows / plain["seconds"]
        print(f"no-collapse: {plain_rate:,.0f} rows/s, peak RSS {plain['peak_mib']:,.0f} MiB")

        resumed_dir = work / "resumed"
        first = run(
            score_cmd(feed, resumed_dir, model, args.rows, args.workers),
            kill_at=args.rows // 2,
            out=resumed_dir,
        )
        at = covered(resumed_dir)
        second = run(score_cmd(feed, resumed_dir, model, args.rows, args.workers, "--resume"))
        r_ids, r_rejected, r_manifest = run_contents(resumed_dir)
        held = (
            len(r_ids) == len(set(r_ids))
            and len(r_ids) + r_rejected == args.rows
            and r_ids == ids
            and r_rejected == rejected
            and totals(r_manifest)["rows_read"] == args.rows
        )
        same_clusters = (resumed_dir / "clusters.jsonl").read_bytes() == (
            work / "collapse" / "clusters.jsonl"
        ).read_bytes()
        print(f"kill -9 at {at:,} rows covered (killed={first['killed']}), resumed in "
              f"{second['seconds']:.0f} s: invariant {'held' if held else 'BROKEN'}, "
              f"clusters {'identical' if same_clusters else 'DIFFER'}")  # fmt: skip

        figures = {
            "rows": args.rows,
            "rows_per_s": round(rate),
            "rows_per_s_no_collapse": round(plain_rate),
            "ratio": round(rate / plain_rate, 2),
            "peak_rss_mib": round(collapsed["peak_mib"]),
            "peak_rss_mib_no_collapse": round(plain["peak_mib"]),
            "saving": round(saving, 4),
            "model_calls": counts["model_calls"],
            "rejected": rejected,
            "invariant_held": held,
            "clusters_identical_after_resume": same_clusters,
            "killed_at": at,
        }
        print(" ".join(f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
