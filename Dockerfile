# ScaleUp ATS Export: one image for `scaleup serve`, `scaleup worker` and `scaleup db upgrade`.
# Not built on the development machine (it cannot build images): tests/test_deploy_files.py checks that every
# command, port, setting and path named here exists in the app.

# The lock is compiled for Python 3.11 (README: --python-version 3.11); the Debian release is pinned too, so a
# rebuild does not move to another base under the same tag.
FROM python:3.11-slim-bookworm

# Log lines reach `docker logs` as they are written, not when a buffer fills.
ENV PYTHONUNBUFFERED=1

WORKDIR /app

# The dependencies first, alone: this layer is rebuilt only when requirements.lock changes, not on every
# code change. Exactly README's install: every package pinned, each file checked against its hash.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock

# Then the app itself, without resolving dependencies again (they are the locked ones above). README.md is
# the project's `readme` in pyproject.toml, which the build reads; the packages are pyproject's
# [tool.setuptools.packages.find] include list (their migrations, seeds and samples are package data).
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY exports ./exports
COPY sync ./sync
COPY ingest ./ingest
COPY ats ./ats
COPY storage ./storage
COPY core ./core
COPY devkit ./devkit
RUN pip install --no-cache-dir --no-deps .

# Run as an unprivileged user. /app stays root's (the code cannot be changed by the process); /data is the
# one writable place, for a SQLite database and its `.ratelimit` file when no PostgreSQL is configured.
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin scaleup \
    && mkdir /data \
    && chown scaleup:scaleup /data
USER scaleup

# The default database when DATABASE_URL is not given (compose.yaml gives PostgreSQL's): a file in /data,
# which a volume should hold (`-v scaleup-data:/data`).
ENV DATABASE_URL=sqlite:////data/scaleup.db

EXPOSE 3000

# The slim image has no curl: Python asks /healthz, which answers 200 when the database answers, 503
# otherwise (an exception, exit 1). Only `serve` listens; compose.yaml disables this for the others.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=3).status == 200 else 1)"]

# What `docker stop` sends (the default, said here because the app relies on it): `serve` and `worker`
# stop gracefully on it, the worker finishing and recording the candidate in flight.
STOPSIGNAL SIGTERM

# Exec form: `scaleup` is PID 1 and receives SIGTERM itself (no shell in between to swallow it).
ENTRYPOINT ["scaleup"]
# Inside a container the server must listen on every interface for the published port to reach it.
CMD ["serve", "--host", "0.0.0.0", "--port", "3000"]
