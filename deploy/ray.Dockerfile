# The image of the RayService's pods (deploy/k8s/ray): Ray's own image (which KubeRay's probes
# and `ray start` expect: bash, wget, the ray CLI, uid 1000) plus slot-tagger with the [ray]
# extra, the serving packages at the lock's versions. Not built on this project's machine (it has
# no access to Ray's image registry); the manifests' checks do not need it.
#   docker build -f deploy/ray.Dockerfile -t slot-tagger-ray:0.1.0 .
ARG RAY_IMAGE=rayproject/ray:2.60.0-py311-cpu
FROM ${RAY_IMAGE}
COPY --chown=1000:100 pyproject.toml README.md /home/ray/slot-tagger/
COPY --chown=1000:100 deploy/requirements-serve.txt /home/ray/slot-tagger/deploy/
COPY --chown=1000:100 app /home/ray/slot-tagger/app
COPY --chown=1000:100 model /home/ray/slot-tagger/model
COPY --chown=1000:100 data /home/ray/slot-tagger/data
COPY --chown=1000:100 training /home/ray/slot-tagger/training
RUN pip install --no-cache-dir -c /home/ray/slot-tagger/deploy/requirements-serve.txt \
        '/home/ray/slot-tagger[ray]' \
    && rm -rf /home/ray/slot-tagger
