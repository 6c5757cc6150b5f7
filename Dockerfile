# One image for every tradesim process: `api` (default), `worker`, `streamer`, `history sync`,
# `db upgrade`. Build: docker build -t tradesim .   Run: docker run tradesim worker

FROM python:3.11-slim-bookworm AS builder

# uv from PyPI, the same way scripts/_uv.sh gets it; the lock decides every other version.
RUN pip install --no-cache-dir uv==0.13.9

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/tradesim/.venv

# Which extras to install: every one by default (the image ECS runs for every process). The api
# needs no Jesse, which costs hundreds of MB: compose builds its api image with
# EXTRAS="server postgres redis s3" and its worker image with the default.
ARG EXTRAS="all"

WORKDIR /build
# Dependencies first, so that a change to the code alone reuses this layer.
COPY pyproject.toml uv.lock README.md ./
# hadolint ignore=SC2086
RUN flags=""; for extra in $EXTRAS; do flags="$flags --extra $extra"; done; \
    uv sync --frozen --no-dev $flags --no-install-project
COPY src ./src
# hadolint ignore=SC2086
RUN flags=""; for extra in $EXTRAS; do flags="$flags --extra $extra"; done; \
    uv sync --frozen --no-dev $flags --no-editable


FROM python:3.11-slim-bookworm

RUN groupadd --system --gid 10001 tradesim \
    && useradd --system --uid 10001 --gid tradesim --home-dir /srv/tradesim --shell /usr/sbin/nologin tradesim \
    && install -d -o tradesim -g tradesim /srv/tradesim /srv/tradesim/var

COPY --from=builder /opt/tradesim/.venv /opt/tradesim/.venv

# Inside a container the api must listen beyond loopback; compose and ECS set these too.
ENV PATH=/opt/tradesim/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TRADESIM_DATA_DIR=/srv/tradesim/var \
    TRADESIM_HTTP_HOST=0.0.0.0 \
    TRADESIM_HTTP_PORT=8000

WORKDIR /srv/tradesim
# Numeric, so that a platform can verify the user is not root without reading /etc/passwd.
USER 10001:10001

# Writable even under a read-only root filesystem: ECS copies these directories, with their owner,
# into per-task scratch volumes.
VOLUME ["/srv/tradesim", "/tmp"]

EXPOSE 8000

# Probes the api (the default command) on TRADESIM_HTTP_PORT; compose gives worker and streamer
# their heartbeat checks (`... probe heartbeat <role>`), and ECS uses its task definitions' instead.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "tradesim.entrypoints.probe", "http"]

ENTRYPOINT ["tradesim"]
CMD ["api"]
