# syntax=docker/dockerfile:1
# Strands Deploy: one image for the web (daphne) and the dramatiq workers; the `sandbox`
# target adds the local AWS emulator for compose's optional "sandbox" profile.

# --- build: wheels of the pinned dependencies -------------------------------------------------
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY dashboard dashboard
COPY provisioning provisioning
COPY templates templates
COPY static static
# The project's own wheel is dropped: the code runs from /app (below), the directory the agent
# chat's confinement hides from uploaded code; site-packages must stay readable to it.
RUN pip wheel --no-cache-dir --wheel-dir /wheels . \
 && rm /wheels/strands_deploy-*.whl

# --- sandbox-wheels: moto and what it brings (flask, docker, cfn-lint), for the sandbox target
# only (a production build never runs this stage).
FROM build AS sandbox-wheels
RUN pip wheel --no-cache-dir --wheel-dir /wheels-sandbox --find-links /wheels ".[sandbox]" \
 && rm /wheels-sandbox/strands_deploy-*.whl

# --- production: no compiler, no moto, not root ----------------------------------------------
FROM python:3.12-slim AS production
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    STRANDS_VAR_DIR=/app/var \
    AGENT_CODE_ROOT=/data/agent-code \
    STRANDS_DEPLOY_CACHE_DIR=/data/cache
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index /wheels/*.whl
# One unprivileged account runs every process; the code stays root's (read-only to it).
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/strands strands \
 && mkdir -p /app/var /data/agent-code/uploads /data/cache \
 && chown -R strands:strands /app/var /data
WORKDIR /app
COPY manage.py pyproject.toml README.md ./
COPY dashboard dashboard
COPY provisioning provisioning
COPY templates templates
COPY static static
USER strands
RUN python manage.py collectstatic --noinput
# /data holds uploaded agent code and the layer cache: web and workers must share it (compose
# mounts one named volume there; no VOLUME here, which would give each container its own).
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# `python -m daphne` puts /app first on the path, so the code in /app is what runs.
CMD ["python", "-m", "daphne", "-b", "0.0.0.0", "-p", "8000", "dashboard.asgi:application"]

# --- sandbox: the production image plus moto (never deployed) ----------------------------------
FROM production AS sandbox
USER root
RUN --mount=type=bind,from=sandbox-wheels,source=/wheels-sandbox,target=/wheels \
    pip install --no-cache-dir --no-index /wheels/*.whl
USER strands
EXPOSE 4566
HEALTHCHECK --interval=5s --timeout=3s --retries=20 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:4566/moto-api/', timeout=2)"]
CMD ["python", "manage.py", "sandbox", "--host", "0.0.0.0"]
