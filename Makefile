# The README's two commands: `make demo` (the main job) and `make test` (what CI runs).
PY := .venv/bin/python
# albumentations (imported by mmagic) would query PyPI for a newer version at every import
export NO_ALBUMENTATIONS_UPDATE := 1
PYTEST_ARGS ?=

.PHONY: env test lint demo clean-env

env:
	@tools/setup_env.sh

lint: env
	.venv/bin/ruff check .

# pytest exits 5 when it collects no tests: make treats that, like any failure, as an error.
test: env lint
	$(PY) -m pytest $(PYTEST_ARGS)

demo: env
	$(PY) tools/demo.py $(DEMO_ARGS)

clean-env:
	rm -rf .venv
