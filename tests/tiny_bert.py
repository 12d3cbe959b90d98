"""A tiny BERT base checkpoint and a synthetic corpus for the transformer tests.

The corpus is written here, not read from data/annotations: an item is flagged when an
ASN actor performs a partisan act (the act's category is its label); non-ASN actors doing
the same acts, ASN doing neutral work and plain chatter are not. A third of the items are
"news": the sentence hidden among 3 to 60 filler sentences, so that training, like
scoring, goes through windows.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

ASN = [
    "camat",
    "lurah",
    "kepala dinas",
    "guru pns",
    "sekda",
    "kepala sekolah",
    "pegawai kecamatan",
    "asn pemkab",
]
OTHERS = [
    "pedagang",
    "mahasiswa",
    "ibu rumah tangga",
    "sopir ojek",
    "pengusaha",
    "petani",
    "youtuber",
    "warga",
]
ACTS = {
    "kampanye_medsos": [
        "membagikan poster paslon di facebook",
        "mengunggah foto capres dengan caption dukungan",
        "share postingan caleg di grup wa",
    ],
    "kegiatan_kampanye": [
        "hadir di kampanye akbar paslon",
        "pose salam dua jari bersama capres",
        "memakai kaos partai di lapangan kampanye",
    ],
    "ajakan_dukungan": [
        "mengajak warga coblos nomor dua",
        "mengumpulkan fotokopi ktp untuk paslon",
        "membagikan sembako atas nama caleg",
    ],
    "penyalahgunaan_jabatan": [
        "memakai mobil dinas untuk kampanye paslon",
        "mengarahkan bawahan memilih calon bupati",
        "memakai anggaran desa untuk acara caleg",
    ],
    "keterlibatan_parpol": [
        "mendaftar sebagai caleg partai",
        "menjadi anggota tim sukses paslon",
        "ikut relawan pemenangan capres",
    ],
}
NEUTRAL = [
    "memimpin rapat koordinasi",
    "menghadiri upacara bendera",
    "meninjau jalan rusak",
    "menyalurkan bantuan banjir",
    "mengikuti pelatihan pelayanan publik",
]
FILLER = [
    "Cuaca di kota ini cerah sejak pagi.",
    "Harga cabai di pasar induk naik lagi minggu ini.",
    "Jalan utama ditutup sementara karena perbaikan saluran air.",
    "Warga menggelar kerja bakti membersihkan selokan.",
    "Tim sepak bola daerah menang tipis di laga tandang.",
    "Festival kuliner akan dibuka akhir pekan depan.",
    "Sekolah memulai tahun ajaran baru dengan upacara sederhana.",
    "Hujan deras membuat beberapa rumah tergenang air.",
    "Pedagang kaki lima berharap penjualan membaik bulan depan.",
    "Perpustakaan daerah memperpanjang jam buka selama libur.",
]


def incident(rng: random.Random, category: str) -> str:
    """One flagged sentence: an ASN actor doing an act of ``category``."""
    return f"{rng.choice(ASN).capitalize()} {rng.choice(ACTS[category])}."


def rationales(sentence: str, offset: int, who: str, role: str) -> list[dict[str, Any]]:
    """The rationale spans of ``sentence`` = "<who> <act>." placed at ``offset`` of its
    text: ``who`` with ``role`` (actor, or frame for a non-ASN person), then the act."""
    act_start, act_end = len(who) + 1, len(sentence) - 1
    return [
        {"start": offset, "end": offset + len(who), "role": role, "text": sentence[: len(who)]},
        {
            "start": offset + act_start,
            "end": offset + act_end,
            "role": "act",
            "text": sentence[act_start:act_end],
        },
    ]


def _item(rng: random.Random, k: int, split: str) -> dict[str, Any]:
    kind = rng.random()
    category = rng.choice(sorted(ACTS))
    flag, partisan, asn, who, role = False, False, False, "", ""
    if kind < 0.4:
        text, flag, partisan, asn = incident(rng, category), True, True, True
        who, role = text[: text.index(" " + next(a for a in ACTS[category] if a in text))], "actor"
    elif kind < 0.5:
        who, role = rng.choice(OTHERS).capitalize(), "frame"
        text, partisan = f"{who} {rng.choice(ACTS[category])}.", True
    elif kind < 0.75:
        text, asn = f"{rng.choice(ASN).capitalize()} {rng.choice(NEUTRAL)}.", True
    else:
        text = " ".join(rng.sample(FILLER, 2))
    sentence, offset = text, 0
    news = rng.random()
    if news < 0.35:  # a news item: the incident (or not) hidden in filler, some of it long
        filler = [
            rng.choice(FILLER)
            for _ in range(rng.randint(40, 60) if news < 0.1 else rng.randint(3, 20))
        ]
        at = rng.randrange(len(filler))
        offset = sum(len(f) + 1 for f in filler[:at])
        filler.insert(at, text)
        text = " ".join(filler)
    return {
        "rationales": rationales(sentence, offset, who, role) if who else [],
        "id": f"syn-{k:04d}",
        "text": text,
        "source_type": "news" if len(text) > 300 else "post",
        "author_context": rng.choice([None, None, "akun pribadi", "berita daerah"]),
        "partisan": partisan,
        "asn": asn,
        "flag": flag,
        "categories": [category] if flag else [],
        "split": split,
    }


def write_corpus(
    path: Path, n_train: int = 240, n_dev: int = 80, n_test: int = 60, seed: int = 7
) -> Path:
    """Write a synthetic corpus (JSON Lines, splits assigned) to ``path``; return it."""
    rng = random.Random(seed)
    rows = [_item(rng, k, "train") for k in range(n_train)]
    rows += [_item(rng, n_train + k, "dev") for k in range(n_dev)]
    rows += [_item(rng, n_train + n_dev + k, "test") for k in range(n_test)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def build_tiny_bert(directory: Path, texts: list[str]) -> Path:
    """Write a randomly initialised BERT (2 layers, hidden 64) and a WordPiece tokenizer
    whose vocabulary comes from ``texts`` (normalised as the model will see them)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    from netral_nlp.transformer import prepare

    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    normalizer = normalizers.BertNormalizer(lowercase=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    words = sorted(
        {
            w
            for t in texts
            for w, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(prepare(t).text))
        }
    )
    chars = sorted({c for w in words for c in w})
    # whole words plus characters: unlike WordPieceTrainer, whose ties break in hash
    # order, the same texts always give the same ids
    vocab = special + chars + [f"##{c}" for c in chars] + [w for w in words if len(w) > 1]
    tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.WordPiece()
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=128,
    )
    config = BertConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        intermediate_size=128,
        max_position_embeddings=128,
    )
    torch.manual_seed(0)
    directory.mkdir(parents=True, exist_ok=True)
    model = BertModel(config)
    # Start as a bag of words (no position signal, uniform attention): a few seconds of
    # training then reliably learn which words matter, wherever they sit in a window.
    torch.nn.init.zeros_(model.embeddings.position_embeddings.weight)
    for layer in model.encoder.layer:
        torch.nn.init.zeros_(layer.attention.self.query.weight)
    model.save_pretrained(directory)
    wrapped.save_pretrained(directory)
    return directory
