"""The label schema: the one place category names, their order and display names live.

Every path (data validation, training, scoring, the service) imports from here; no label
list is ever derived from data, so a class missing from a split cannot shift indices.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class Category:
    name: str
    name_id: str
    name_en: str
    description_en: str


CATEGORIES: tuple[Category, ...] = (
    Category(
        "kampanye_medsos",
        "Kampanye di media sosial",
        "Campaigning on social media",
        "Posting, sharing, liking, commenting or following for a candidate; twibbons.",
    ),
    Category(
        "kegiatan_kampanye",
        "Ikut kegiatan kampanye",
        "Taking part in campaign events",
        "Attending rallies or declarations, wearing attributes, finger or number gestures.",
    ),
    Category(
        "ajakan_dukungan",
        "Ajakan atau pernyataan dukungan",
        "Declaring or soliciting support",
        "Declaring support, urging votes, collecting KTP copies, handing out goods.",
    ),
    Category(
        "penyalahgunaan_jabatan",
        "Penyalahgunaan jabatan dan fasilitas",
        "Abuse of office or state resources",
        "Using position, facilities, budget, programmes or subordinates for a candidate.",
    ),
    Category(
        "keterlibatan_parpol",
        "Keterlibatan partai atau tim sukses",
        "Party or campaign-team involvement",
        "Party membership, seeking a nomination, joining a tim sukses or relawan group.",
    ),
)

CATEGORY_NAMES: tuple[str, ...] = tuple(c.name for c in CATEGORIES)
CATEGORY_BY_NAME: dict[str, Category] = {c.name: c for c in CATEGORIES}

SOURCE_TYPES: tuple[str, ...] = ("post", "news", "press", "chat")

# Fields of one annotated item (LABELS.md), with their JSON types.
ANNOTATION_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "text": (str,),
    "source_type": (str,),
    "author_context": (str, type(None)),
    "partisan": (bool,),
    "asn": (bool,),
    "flag": (bool,),
    "categories": (list,),
}

# JSON's names for Python types, for messages such as "expected string, got number".
JSON_TYPE_NAMES: dict[type, str] = {
    str: "string",
    bool: "boolean",
    int: "number",
    float: "number",
    list: "list",
    dict: "object",
    type(None): "null",
}


def json_type_name(value: object) -> str:
    """The JSON name of ``value``'s type ("string", "number", "null"...), for messages."""
    return JSON_TYPE_NAMES.get(type(value), type(value).__name__)


# Roles of a rationale span (LABELS.md): who acted, what they did, for whom, and for an
# unflagged item what makes it not a violation.
RATIONALE_ROLES: tuple[str, ...] = ("actor", "act", "target", "frame")


class SchemaMismatchError(ValueError):
    """A model or file was made for a different label schema."""


def check_schema_version(found: str | None, where: str) -> None:
    """Raise SchemaMismatchError unless ``found`` equals this package's SCHEMA_VERSION."""
    if found != SCHEMA_VERSION:
        raise SchemaMismatchError(
            f"{where} was made for label schema {found!r}, but this netral-nlp uses schema "
            f"{SCHEMA_VERSION!r}; retrain the model or use a matching netral-nlp version"
        )


def display_name(name: str, lang: str = "id") -> str:
    """Human-readable name of a category in Indonesian (``id``) or English (``en``)."""
    cat = CATEGORY_BY_NAME[name]
    return cat.name_id if lang == "id" else cat.name_en
