# One image for the four services and the console (target `product`, the default); docker-compose.yml picks
# the command. Built from uv.lock without the dev tools, run as an unprivileged user. The
# development kit (platform simulator, demo, benchmarks) is a separate target, `devkit`,
# which the compose file's demo profile alone uses: the product image does not contain it.
FROM python:3.11-slim AS build

ENV UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/app/.venv
RUN pip install --no-cache-dir uv
WORKDIR /src
# Dependencies first, in their own layer, so a code change does not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY shared ./shared
COPY services ./services
RUN uv sync --frozen --no-dev --no-editable

FROM python:3.11-slim AS product

RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin mailbox
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
USER mailbox
EXPOSE 8001 8002 8003 8004 8005 8900
CMD ["mailbox", "--help"]

# The product plus the development kit, for the demo profile's platform simulator.
FROM product AS devkit
COPY --chown=mailbox:mailbox devkit /app/devkit
ENV PYTHONPATH=/app

# The default target: the product alone.
FROM product
