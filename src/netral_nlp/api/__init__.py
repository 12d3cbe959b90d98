"""The triage service: FastAPI app factory and ``run`` for ``netral serve``.

Nothing is loaded at import time: the model and the queue are opened by the app's
lifespan, once per process.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from ..model import Classifier
    from .addresses import Resolver
    from .settings import Settings

__all__ = ["create_app", "run"]


def create_app(
    settings: Settings | None = None,
    classifier: Classifier | None = None,
    resolver: Resolver | None = None,
) -> FastAPI:
    """Build the app. ``settings`` defaults to the environment (``NETRAL_*``);
    ``classifier`` replaces loading the model (tests); ``resolver`` replaces DNS (tests)."""
    import anyio.to_thread
    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware
    from fastapi.staticfiles import StaticFiles

    from .. import __version__
    from ..model import load_model
    from . import errors
    from .addresses import system_resolver
    from .middleware import AccessLog, BodyLimit, HostCheck, ServerErrors
    from .queue import ReviewQueue
    from .routes import api, page
    from .scoring import Scorer
    from .security import ApiKeys
    from .settings import Settings

    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        model = classifier or await anyio.to_thread.run_sync(load_model, settings.model)
        queue = await anyio.to_thread.run_sync(ReviewQueue, settings.db)
        scorer = Scorer(model, queue, settings, resolver or system_resolver)
        await anyio.to_thread.run_sync(scorer.warm_up)
        app.state.scorer = scorer
        logging.getLogger("netral_nlp.api").info(
            "serving %s, queue %s", scorer.model_id, settings.db
        )
        yield

    app = FastAPI(
        title="netral-nlp triage service",
        version=__version__,
        description=(
            "Scores posts and news for partisan political activity by Indonesian civil "
            "servants (ASN), and keeps a review queue whose decisions become training data. "
            'Errors answer `{"error": {"code", "message"}}`.'
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.api_keys = ApiKeys(settings.api_keys)
    errors.install(app)
    page.install(app)
    app.include_router(api.health_router)
    app.include_router(api.router)
    app.include_router(page.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Authorization", "X-API-Key"],
        )
    # Added innermost first: ServerErrors wraps the routes, AccessLog sees every answer.
    app.add_middleware(ServerErrors)
    app.add_middleware(
        BodyLimit, max_bytes=settings.max_body_bytes, timeout_s=settings.body_timeout_s
    )
    app.add_middleware(HostCheck, allowed_hosts=settings.trusted_hosts)
    app.add_middleware(AccessLog)
    return app


def run(model: str | Path | None = None, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve with uvicorn in this process (one worker); ``model`` overrides NETRAL_MODEL.

    The model and the queue are opened before the server starts, so a missing or broken
    model (ModelLoadError) or a NETRAL_DB that is not a queue (QueueDatabaseError) is one
    clear error instead of a failed start-up inside uvicorn.
    """
    import uvicorn

    from ..model import load_model
    from .queue import ReviewQueue
    from .security import host_allowed
    from .settings import Settings

    settings = Settings()
    if model is not None:
        settings = settings.model_copy(update={"model": Path(model)})
    if host not in ("0.0.0.0", "::", ""):
        # Clients reach a named address by that name: it is not a name another site can
        # rebind, so it joins the allowed hosts (the loopback names by default).
        bound = (f"[{host}]" if ":" in host else host).lower()
        if not host_allowed(bound, settings.allowed_hosts):
            settings = settings.model_copy(
                update={"allowed_hosts": [*settings.allowed_hosts, bound]}
            )
    classifier = load_model(settings.model)
    ReviewQueue(settings.db)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in ("netral_nlp.access", "netral_nlp.api"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
        logger.propagate = False
    if host in ("0.0.0.0", "::"):
        logging.getLogger("netral_nlp.api").warning(
            "listening on every interface; requests are answered only for the hosts %s "
            "(NETRAL_ALLOWED_HOSTS)",
            ", ".join(settings.trusted_hosts),
        )
    # uvicorn's own access log is off: it would log client addresses and query strings.
    app = create_app(settings, classifier=classifier)
    uvicorn.run(app, host=host, port=port, access_log=False, proxy_headers=True)
