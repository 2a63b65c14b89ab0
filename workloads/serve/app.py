"""The ASGI application: probes, metrics, the model list and completions.

The probes, as the platform should use them: ``/healthz`` for startup and liveness (200 from the moment
the port is open, also while the server waits for its first checkpoint or loads it; 503 only when the
engine thread died and a restart is the fix), ``/readyz`` for readiness (200 only while serving).
"""

from __future__ import annotations

import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response

from lepton_infra.contract import COMPLETIONS_PATH, HEALTH_PATH, METRICS_PATH, MODELS_PATH, READY_PATH
from workloads.serve.completions import create_completion, unavailable
from workloads.serve.engine import Engine
from workloads.serve.errors import install_error_handlers
from workloads.serve.metrics import Metrics
from workloads.serve.middleware import RequestMetrics
from workloads.serve.schemas import ModelCard, ModelList
from workloads.serve.settings import Settings


def create_app(engine: Engine, settings: Settings, metrics: Metrics) -> FastAPI:
    # No /docs or /openapi.json: the API is OpenAI's, documented there, and less surface is safer.
    app = FastAPI(title="lepton-infra serve", docs_url=None, redoc_url=None, openapi_url=None)
    install_error_handlers(app)
    app.add_middleware(RequestMetrics, metrics=metrics)
    started = int(time.time())

    @app.get(HEALTH_PATH)
    async def healthz() -> JSONResponse:
        # Liveness: fails only when restarting the process is the fix (the engine thread died).
        if engine.alive:
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "engine stopped"}, status_code=503)

    @app.get(READY_PATH)
    async def readyz() -> JSONResponse:
        # waiting_for_checkpoint, loading, ready or draining; and the step served, once there is one.
        body: dict[str, object] = {"status": engine.state}
        if engine.served_step is not None:
            body["step"] = engine.served_step
        return JSONResponse(body, status_code=200 if engine.ready else 503)

    @app.get(METRICS_PATH)
    async def prometheus_metrics() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.get(MODELS_PATH)
    async def models() -> JSONResponse:
        if engine.model_config is None:  # its context length is not known before it is
            raise unavailable(engine)
        card = ModelCard(id=settings.model_name, created=started, max_model_len=engine.seq_len)
        return JSONResponse(ModelList(data=[card]).model_dump(mode="json"))

    @app.post(COMPLETIONS_PATH)
    async def completions(request: Request) -> Response:
        return await create_completion(request, engine, settings)

    return app
