# slot-tagger: serves the shipped default model on port 8000.
#   docker build -t slot-tagger .
#   docker run --rm -p 8000:8000 slot-tagger
# TORCH_INDEX_URL picks where the CPU build of torch comes from (a mirror, or a local wheel
# directory with --build-arg TORCH_INDEX_URL=file:///wheels plus a bind mount).
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE}

ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG TORCH_VERSION=2.13.0

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /srv/slot-tagger

RUN pip install --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}"

COPY pyproject.toml README.md ./
COPY model ./model
COPY app ./app
COPY data ./data
COPY training ./training
RUN pip install . \
    && useradd --system --uid 10001 --no-create-home app \
    && chmod -R a-w /srv/slot-tagger

USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
CMD ["slot-tagger", "serve", "--host", "0.0.0.0", "--port", "8000"]
