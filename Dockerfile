# One image for every EstateWatch role; the command picks the role (see docker-compose.yml):
#   estatewatch migrate | estatewatch devices ... | estatewatch serve --role ingest|vision|alerts|api|all
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
# Dependencies first, so a code change does not reinstall numpy, OpenCV and psycopg.
COPY pyproject.toml README.md ./
RUN mkdir -p common estatewatch ingest vision alerts api simulators store \
    && for p in common estatewatch ingest vision alerts api simulators store; do touch "$p/__init__.py"; done \
    && /opt/venv/bin/pip install . \
    && rm -rf common estatewatch ingest vision alerts api simulators store
COPY common ./common
COPY estatewatch ./estatewatch
COPY ingest ./ingest
COPY vision ./vision
COPY alerts ./alerts
COPY api ./api
COPY simulators ./simulators
COPY store ./store
RUN /opt/venv/bin/pip install --no-deps --force-reinstall .

FROM python:3.11-slim
# evidence/ and broker-auth/ exist in the image, so fresh named volumes mounted there belong to the service user
# (broker-auth holds the broker's password hashes and ACL: private to that user).
RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/estatewatch estatewatch \
    && install -d -o estatewatch -g estatewatch /var/lib/estatewatch/evidence \
    && install -d -m 0700 -o estatewatch -g estatewatch /var/lib/estatewatch/broker-auth
COPY --from=build /opt/venv /opt/venv
# Listen on all interfaces inside the container; the compose file decides what is published.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    EW_DATA_DIR=/var/lib/estatewatch \
    EW_HTTP_HOST=0.0.0.0 \
    EW_HTTP_PORT=8080
USER estatewatch
WORKDIR /var/lib/estatewatch
EXPOSE 8080
ENTRYPOINT ["estatewatch"]
CMD ["serve", "--role", "all"]
