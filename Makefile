# Two commands on a fresh machine: `make serve` (install, then serve the shipped model) and
# `make test` (install, then run the whole suite). Everything installs into .venv.
VENV ?= .venv
PY := $(VENV)/bin/python
CLI := $(VENV)/bin/slot-tagger
SEED ?= 0
N_TRAIN ?= 40000
# The serving install's pinned versions (the image installs exactly these; tests/test_lock.py).
LOCK := deploy/requirements-serve.txt
# This machine's container preparation (podman, a stand-in base image): beside the repository
# (../shared), else where the workspace keeps it.
CONTAINER_PREPARE ?= $(firstword $(wildcard ../shared/container/prepare.sh) \
	/work/shared/container/prepare.sh)

.PHONY: install browser-deps serve test lint data train-default export-default plots report \
	cells probe ablation bench bench-yardstick soak ray-bench lock image-test clean

install: $(VENV)/.installed

# torch first, pinned: its CPU wheel is on local disk here, and a looser pin fetches a CUDA build.
# The serving packages at the lock's versions, so the tests run what the image runs. Ray too: its
# tests (tests/app/test_ray_serve.py, tests/training/test_bulk.py) start a local cluster.
$(VENV)/.installed: pyproject.toml setup.py model/_decode.c $(LOCK)
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -c $(LOCK) -e '.[dev,ray]'
	touch $@

# The page's browser tests (tests/app/test_page.py): Debian's chromium (playwright cannot download
# a browser here) and axe-core from the npm registry, pinned, into build/axe (ignored).
AXE_VERSION := 4.10.3
AXE := build/axe/node_modules/axe-core/axe.min.js

browser-deps: $(AXE)
	command -v chromium >/dev/null || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

$(AXE):
	command -v npm >/dev/null || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y npm)
	npm install --prefix build/axe --no-save --no-audit --no-fund axe-core@$(AXE_VERSION)

serve: install
	$(CLI) serve --host 127.0.0.1 --port 8000

test: install browser-deps
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check app model data training tests
	$(VENV)/bin/ruff format --check app model data training tests

data/train.jsonl: data/generate.py data/templates.py data/turns.py data/dialogues.py data/place_names.py data/date_phrases.py data/aliases.tsv
	$(PY) -m data.generate --seed $(SEED) --n $(N_TRAIN) --out $@

data: install data/train.jsonl data/heldout_places.jsonl

data/heldout_places.jsonl: data/test.txt data/place_names.py data/variants.py data/generate.py
	$(PY) -m data.variants --seed $(SEED) --out $@

# The shipped model: one command, deterministic for a given seed.
train-default: install data/train.jsonl
	$(CLI) train --train data/train.jsonl --dev data/dev.txt --dev data/conv_dev.txt --dev data/dialog_dev.jsonl \
		--out model/default --name slot-tagger-default --seed $(SEED) --average 0.4 --members 2 --epochs 7 \
		--no-plots
	$(CLI) calibrate --data data/conv_dev.txt --model model/default
	$(CLI) export model/default
	$(MAKE) plots

# The default model's plots in README (docs/plots), on the pooled dev sets, as it serves.
plots: install
	$(CLI) report model/default --data data/dev.txt --data data/conv_dev.txt \
		--data data/dialog_dev.jsonl --out docs/plots

# The shipped model's ONNX graph again (training and calibrating write it too): the weights stay.
export-default: install
	$(CLI) export model/default

# The place table the service resolves spans against (model/places.json.gz).
places: install
	$(PY) -m data.gazetteer

# Every figure in README's results tables: F1 per set, error classes, calibration, languages.
report: install
	$(PY) -m training.report --model model/default
	$(PY) -m training.calibrate --model model/default --data data/conv_dev.txt \
		--data data/conv_test.txt --data data/dev.txt --data data/test.txt
	$(PY) -m training.language_report --non-english data/non_english.tsv \
		data/dev.txt data/test.txt data/conv_dev.txt data/conv_test.txt

# The README's table of recurrent cells (about half an hour on two cores) and the long-memory
# probe (docs/probe.png, docs/probe.json); neither reads data/train.jsonl.
cells: install
	nice -n 5 $(PY) -m training.cell_table --out docs/cells.json

probe: install
	nice -n 5 $(PY) -m training.probe --out docs

ablation: install data/train.jsonl
	$(PY) -m training.ablation --epochs 6 --only default --only "weight average" --only gazetteer --only frequency \
		--only neither --only "word clusters" --only "two networks"

# Benchmarks and the soak test: not part of `make test`; the HTTP parts need wrk.
bench: install
	command -v wrk >/dev/null || apt-get install -y wrk
	$(PY) tests/benchmarks/bench.py

# The service against a bare FastAPI endpoint, side by side, at c=8 (README, "Speed"):
# ARGS="--ablate" measures the no-op without each middleware piece instead.
bench-yardstick: install
	command -v wrk >/dev/null || apt-get install -y wrk
	$(PY) tests/benchmarks/yardstick.py $(ARGS)

soak: install
	$(PY) tests/benchmarks/soak.py

# Ray: bulk tagging (plain vs Ray Data) and Ray Serve at 1, 2, 4 replicas (README, "Ray").
ray-bench: install
	command -v wrk >/dev/null || apt-get install -y wrk
	nice $(PY) -m tests.benchmarks.ray_bench

# Pin the serving install again: resolve `pip install .` (no extras) in an empty environment.
lock: install
	rm -rf .lock-venv && python3 -m venv --without-pip .lock-venv
	$(PY) -m pip --python .lock-venv/bin/python install -q .
	{ sed -n '/^#/p' $(LOCK); \
	  $(PY) -m pip --python .lock-venv/bin/python freeze --all --exclude slot-tagger; } >$(LOCK).new
	mv $(LOCK).new $(LOCK) && rm -rf .lock-venv build

# Build the image with podman and smoke-test it (CI runs this after `make test`; needs root).
image-test:
	bash deploy/image-test.sh $(CONTAINER_PREPARE) slot-tagger

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis runs .lock-venv
