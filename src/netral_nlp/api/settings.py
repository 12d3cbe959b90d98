"""Service settings, read from ``NETRAL_*`` environment variables.

Lists are comma-separated in the environment: ``NETRAL_API_KEYS=alice:s3cret,bob:t0ken``.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

CommaList = Annotated[list[str], NoDecode]
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


class Settings(BaseSettings):
    """Everything the service can be told; every field is ``NETRAL_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="NETRAL_", extra="ignore")

    model: Path | None = Field(None, description="Model directory; empty = the shipped default.")
    db: Path = Field(Path("netral-queue.db"), description="SQLite file of the review queue.")
    api_keys: CommaList = Field(
        default_factory=list,
        description="Accepted API keys, each `key` or `reviewer:key`; empty = no authentication.",
    )
    allowed_hosts: CommaList = Field(
        default_factory=lambda: list(LOOPBACK_HOSTS),
        description=(
            "Host names the service answers for (the Host header, port ignored; `*.example.org`"
            " patterns; `*` = any, only behind a proxy that checks Host). Others get 400: a"
            " page on another domain that rebinds its name to this address cannot reach the"
            " API. The host of NETRAL_PUBLIC_ORIGIN is always allowed."
        ),
    )
    cors_origins: CommaList = Field(
        default_factory=list, description="Origins allowed by CORS; empty = none."
    )
    public_origin: str | None = Field(
        None, description="Origin the page is served under (behind a proxy), for CSRF checks."
    )
    max_body_bytes: int = Field(4 << 20, ge=1024, description="Request body cap (413 beyond).")
    body_timeout_s: float = Field(
        10.0, gt=0, description="Time a request body may take to arrive (408 beyond)."
    )
    max_inflight: int = Field(
        32, ge=1, description="Scoring requests admitted at once; more get 503 + Retry-After."
    )
    score_threads: int = Field(
        default_factory=lambda: os.cpu_count() or 2, ge=1, description="Threads that score."
    )
    max_fetches: int = Field(8, ge=1, description="URL fetches at once; more get 503.")
    retry_after_s: int = Field(1, ge=1, description="Retry-After of a 503.")
    fetch_allow: CommaList = Field(
        default_factory=list,
        description="Hosts or networks fetchable although private (tests, intranets).",
    )
    fetch_ports: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [80, 443], description="Ports URLs may name."
    )
    fetch_timeout_s: float = Field(15.0, gt=0, description="Total deadline of one URL fetch.")
    fetch_max_bytes: int = Field(2_000_000, ge=1024, description="Cap on a page's decoded bytes.")
    fetch_max_redirects: int = Field(5, ge=0, description="Redirects followed per fetch.")

    @field_validator("api_keys", "allowed_hosts", "cors_origins", "fetch_allow", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("fetch_ports", mode="before")
    @classmethod
    def _split_ports(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.split(",") if part.strip()]
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _check_hosts(cls, value: list[str]) -> list[str]:
        for entry in value:
            if "*" in entry[1:] or (entry.startswith("*") and entry != "*" and entry[1:2] != "."):
                raise ValueError(f"allowed host {entry!r}: a pattern is `*` or `*.domain`")
        return [entry.lower() for entry in value]

    @property
    def trusted_hosts(self) -> list[str]:
        """allowed_hosts plus the host of public_origin."""
        hosts = list(self.allowed_hosts)
        if self.public_origin:
            host = urlsplit(self.public_origin).hostname or ""
            hosts.append(f"[{host}]" if ":" in host else host)
        return hosts

    @field_validator("fetch_allow")
    @classmethod
    def _check_allow(cls, value: list[str]) -> list[str]:
        for entry in value:
            if "/" in entry:
                ipaddress.ip_network(entry, strict=False)  # ValueError names the bad entry
        return value

    @field_validator("model", mode="before")
    @classmethod
    def _empty_model(cls, value: object) -> object:
        return None if value == "" else value
