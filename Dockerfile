# slot-tagger: serves the shipped default model on port 8000. The serving install only: the
# network runs on ONNX Runtime from the graph saved in the model directory, so there is no torch.
#   docker build -t slot-tagger .
#   docker run --rm -p 8000:8000 slot-tagger
# Stages: the pinned dependencies (a layer rebuilt only when deploy/requirements-serve.txt
# changes), the project built beside them, and the image: the dependencies' stage plus the
# project's installed files and nothing else (no source tree, no build/ or egg-info, no caches).
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS deps
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN groupadd --gid 10001 app \
    && useradd --uid 10001 --gid app --create-home --home-dir /home/app \
        --shell /usr/sbin/nologin app
COPY deploy/requirements-serve.txt /tmp/requirements-serve.txt
# One layer: a virtual environment without pip (pip stays the base image's), every version
# pinned and nothing resolved here (--no-deps), wheels only, so two builds are the same. Test
# directories go, and strip (binutils, removed again in the same layer) drops the symbols the
# extension modules carry (spaCy's 126 -> 29 MB); the libraries auditwheel vendored (*.libs/)
# are left alone: strip breaks their patched program headers.
RUN apt-get update \
    && apt-get install -y --no-install-recommends binutils \
    && python -m venv --without-pip /opt/slot-tagger \
    && pip --python /opt/slot-tagger/bin/python install --no-deps --only-binary=:all: \
        -r /tmp/requirements-serve.txt \
    && site=/opt/slot-tagger/lib/python3.11/site-packages \
    && find "$site" -type d -name tests -prune -exec rm -rf {} + \
    && find "$site" -type f -name '*.so' -not -path '*.libs/*' -exec strip --strip-unneeded {} + \
    && apt-get purge -y --auto-remove binutils \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \
        /tmp/requirements-serve.txt

FROM deps AS project
# A C compiler for the CRF decoder (model/_decode.c, setup.py), in this stage only: the image
# takes the compiled module, not the compiler. python:3.11-slim carries Python's headers; a base
# image whose Python is Debian's gets them from Debian's package.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && headers=$(python -c "import sysconfig; print(sysconfig.get_paths()['include'])") \
    && if [ ! -e "$headers/Python.h" ]; then \
        apt-get install -y --no-install-recommends "lib$(basename "$headers")-dev"; fi \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml setup.py README.md /src/
COPY app /src/app
COPY model /src/model
COPY data /src/data
COPY training /src/training
# Into a staging root, so the image takes the project's installed files alone (the build's
# leftovers stay in /src, in this stage). setuptools is one of the pinned dependencies.
RUN pip --python /opt/slot-tagger/bin/python install --no-deps --no-build-isolation \
        --no-warn-script-location --root /staging /src

FROM deps
ENV PATH=/opt/slot-tagger/bin:$PATH \
    HOME=/home/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=project /staging/opt/slot-tagger /opt/slot-tagger
USER 10001:10001
WORKDIR /home/app
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
CMD ["slot-tagger", "serve", "--host", "0.0.0.0", "--port", "8000"]
