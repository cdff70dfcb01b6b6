# syntax=docker/dockerfile:1
# The chatbot as a container image, built from its wheel (docs/deploy.md, "Docker").
#
#   docker build -t bank-chatbot .
#   docker run --rm --env-file chatbot.env -v chatbot-home:/var/lib/chatbot bank-chatbot chatbot db upgrade
#   docker run -p 8000:8000 --env-file chatbot.env -v chatbot-home:/var/lib/chatbot bank-chatbot
# deploy/compose.yaml runs the whole topology (PostgreSQL, Redis, two instances, nginx).
#
# Stage 1 builds the wheel (setup.py copies data/ into it as chatbot/default_data/) and the
# wheels of every dependency; stage 2 installs them into a virtual environment of a slim
# image, without compilers and without the network, and runs as a user of its own.
# Production by default: without CHATBOT_SECRET_KEY, CHATBOT_DATA_KEY and the SMS gateway
# every command refuses to start, naming the setting (-e CHATBOT_ENV=sandbox for the demo).
# Never built on the machine it was written on (no Docker engine there): tests/test_dockerfile.py
# checks it by reading it and by building the wheel from the files its build stage copies.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY chatbot ./chatbot
COPY api ./api
COPY knowledge ./knowledge
COPY training ./training
COPY data ./data
RUN pip wheel --no-cache-dir --wheel-dir /wheels .


FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/chatbot/bin:$PATH \
    CHATBOT_ENV=production \
    CHATBOT_HOME=/var/lib/chatbot \
    CHATBOT_LOG_FORMAT=json
# The wheels are mounted for this one step, not copied: they stay out of the image's layers.
RUN --mount=type=bind,from=build,source=/wheels,target=/tmp/wheels \
    python -m venv /opt/chatbot \
    && /opt/chatbot/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheels bank-chatbot \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/chatbot --create-home chatbot
# CHATBOT_HOME: what the service writes (models, FAQ index and edits, the NLU cache). Mount a
# volume there, the same one for every instance of a deployment (docs/deploy.md); no VOLUME
# line, so that one-off commands do not leave anonymous volumes behind.
WORKDIR /var/lib/chatbot
USER chatbot
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=90s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["chatbot", "serve", "--host", "0.0.0.0", "--port", "8000"]
