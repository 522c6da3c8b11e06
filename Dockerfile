# marketcache: the cached service and, with NO_CACHE=true, the original one (one image).
#
#   docker build -t marketcache .
#   docker run -p 127.0.0.1:8001:8001 -e OFFLINE=true marketcache
#
# Configuration is the environment only (every setting of .env.example; no .env is copied
# in). The service listens on 0.0.0.0:8001 inside the container, runs as an unprivileged
# user under an init process (dumb-init: SIGTERM stops it at once), and its HEALTHCHECK asks
# GET /health: "healthy" and "degraded" (HTTP 200) pass, "unhealthy" (503) or no answer fail.
# The working directory is /services/market-data, where `python cache_test_suite.py` grades
# the service on localhost:8001 (the deployment checklist's step 5).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /build
# the dependencies first (their layer survives changes of the source), then the package
COPY pyproject.toml README.md ./
RUN mkdir -p src/marketcache && touch src/marketcache/__init__.py \
 && /opt/venv/bin/pip install . dumb-init==1.2.5.post1 \
 && /opt/venv/bin/pip uninstall -y marketcache \
 && rm -rf src build ./*.egg-info
COPY src ./src
RUN /opt/venv/bin/pip install --no-deps .

FROM ${PYTHON_IMAGE}
RUN echo 'marketcache:x:10001:10001:marketcache:/services/market-data:/usr/sbin/nologin' >> /etc/passwd \
 && echo 'marketcache:x:10001:' >> /etc/group
COPY --from=build /opt/venv /opt/venv
WORKDIR /services/market-data
COPY cache_test_suite.py ./
COPY deploy/healthcheck.py /usr/local/bin/marketcache-healthcheck
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8001
USER marketcache
EXPOSE 8001
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "/usr/local/bin/marketcache-healthcheck"]
ENTRYPOINT ["dumb-init", "--"]
CMD ["marketcache", "serve"]
