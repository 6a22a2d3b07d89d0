# Two commands for a newcomer:  `make run`  (install + migrate + seed + serve on 127.0.0.1:8000)
#                               `make test` (install test tools + run the whole test suite:
#                                            the web client's unit tests, then pytest)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1
# With several web worker processes, /metrics sums them through this directory (prometheus_client's
# multiprocess mode; emptied at each start). One process: none needed, and the variable is not set
# at all (prometheus_client takes even an empty one as "files in the current directory").
METRICS_DIR ?= $(if $(filter-out 1,$(WORKERS)),$(CURDIR)/.metrics,)
# The embedded model's own server (conversations/llm/model_server.py), always on loopback.
MODEL_PORT ?= 8081
CHAT_LOCAL_MODEL_URL ?= http://127.0.0.1:$(MODEL_PORT)/v1
# Its embedding twin (/v1/embeddings' default model), also on loopback.
EMBEDDING_PORT ?= 8082
CHAT_LOCAL_EMBEDDING_URL ?= http://127.0.0.1:$(EMBEDDING_PORT)/v1

# llama-cpp-python is compiled from source, portably: a native build (-march=native, on by default
# in llama.cpp) can crash on CPUs it was not tuned for (it segfaulted in the AMX kernels here).
# pip would reuse any wheel it cached, whatever CMAKE_ARGS say, so the wheel is built without
# pip's cache into a directory keyed by (version, CMAKE_ARGS, Python, machine) and reused only
# from there.
LLAMA_CPP_VERSION := $(shell sed -n 's/^llama-cpp-python[^=]*==\([^ ;]*\).*/\1/p' requirements.txt)
CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
LLAMA_WHEEL_DIR ?= $(HOME)/.cache/chat-server/llama-wheels
LLAMA_WHEEL_KEY = $(PY) -c 'import hashlib, platform, sys; \
	print(hashlib.sha256("\n".join([*sys.argv[1:], sys.implementation.cache_tag, platform.machine()]).encode()).hexdigest()[:16])' \
	'$(LLAMA_CPP_VERSION)' '$(CMAKE_ARGS)'

.PHONY: run test install install-dev serve lint client

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Stamp files: reinstall only when the pinned requirements change. The portable llama-cpp-python
# wheel goes in first (replacing any other build of it), so the requirements find it satisfied.
$(VENV)/.installed: requirements.txt constraints.txt | $(VENV)/bin/python
	@set -e; dir="$(LLAMA_WHEEL_DIR)/$$($(LLAMA_WHEEL_KEY))"; \
	if ls "$$dir"/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl >/dev/null 2>&1; then \
		echo "llama-cpp-python $(LLAMA_CPP_VERSION): reusing the wheel in $$dir"; \
	else \
		echo "llama-cpp-python $(LLAMA_CPP_VERSION): building with CMAKE_ARGS='$(CMAKE_ARGS)' into $$dir (minutes)"; \
		mkdir -p "$(LLAMA_WHEEL_DIR)"; tmp=$$(mktemp -d "$(LLAMA_WHEEL_DIR)/build.XXXXXX"); \
		trap 'rm -rf "$$tmp"' EXIT; \
		CMAKE_ARGS='$(CMAKE_ARGS)' CMAKE_BUILD_PARALLEL_LEVEL='$(CMAKE_BUILD_PARALLEL_LEVEL)' \
			$(PY) -m pip wheel --no-deps --no-binary llama-cpp-python --no-cache-dir \
			--wheel-dir "$$tmp" 'llama-cpp-python==$(LLAMA_CPP_VERSION)'; \
		mkdir -p "$$dir"; mv "$$tmp"/llama_cpp_python-*.whl "$$dir"/; \
	fi; \
	$(PY) -m pip install --force-reinstall --no-deps --no-index --find-links "$$dir" \
		'llama-cpp-python==$(LLAMA_CPP_VERSION)'
	$(PY) -m pip install -r requirements.txt -c constraints.txt
	touch $@

# The translation catalogs (each app's locale/ and the root's) compiled to .mo, whenever one changes.
TRANSLATIONS_STAMP := $(VENV)/.translations
$(TRANSLATIONS_STAMP): $(shell find . -path ./$(VENV) -prune -o -path ./frontend -prune -o -name '*.po' -print) $(VENV)/.installed
	$(PY) manage.py compile_translations
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt constraints.txt $(VENV)/.installed
	$(PY) -m pip install -r requirements-dev.txt -c constraints.txt
	touch $@

# The web client (frontend/): its libraries come from npm at the versions package-lock.json pins,
# bundled by esbuild into frontend/dist/client/, which Django serves as /static/client/.
CLIENT_BUNDLE := frontend/dist/client/app.js
$(CLIENT_BUNDLE): frontend/package.json frontend/package-lock.json frontend/build.mjs $(shell find frontend/src -type f)
	cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build

client: $(CLIENT_BUNDLE)
install: $(VENV)/.installed $(TRANSLATIONS_STAMP) $(CLIENT_BUNDLE)
install-dev: $(VENV)/.installed-dev $(TRANSLATIONS_STAMP) $(CLIENT_BUNDLE)

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(MAKE) serve

# Every process of the service (Procfile: web, model, embedding, worker) under honcho; Ctrl-C or
# SIGTERM stops all.
serve:
	exec env VENV='$(VENV)' HOST='$(HOST)' WEB_PORT='$(PORT)' WORKERS='$(WORKERS)' $(if $(METRICS_DIR),PROMETHEUS_MULTIPROC_DIR='$(METRICS_DIR)') \
		MODEL_PORT='$(MODEL_PORT)' CHAT_LOCAL_MODEL_URL='$(CHAT_LOCAL_MODEL_URL)' \
		EMBEDDING_PORT='$(EMBEDDING_PORT)' CHAT_LOCAL_EMBEDDING_URL='$(CHAT_LOCAL_EMBEDDING_URL)' \
		$(VENV)/bin/honcho start --no-colour --procfile Procfile --app-root .

# The client's unit tests (node --test: api.js, stream.js) first: seconds, and they need no server.
# PYTEST_ARGS: extra pytest arguments (CI's PostgreSQL pass leaves out what it ran once already).
test: install-dev
	cd frontend && npm test --silent
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
