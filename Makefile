# Tessera — developer commands. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: venv demo test test-fast lint check-deploy worker beat clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-demo.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt  # includes requirements-demo.txt (dbt)
	touch $@

## The demo: SQLite, in-process tasks, three demo teams, dbt projects built and synced, server on :8000
demo: venv
	DEBUG=1 TESSERA_OPEN_API=1 $(PY) manage.py tessera_demo --serve

## The whole suite against PostgreSQL + Redis + a real worker, SMTP server and browser
test: venv
	bash scripts/test.sh -n 2 --dist loadfile

## Unit tests only (no external processes), on SQLite: the quick inner loop
test-fast: venv
	$(PY) -m pytest -q -p no:cacheprovider -n 2 -m "not integration and not browser and not slow" contracts audits tessera_site

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=1 $(VENV)/bin/mypy
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

check-deploy: venv
	DEBUG=0 SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') ALLOWED_HOSTS=tessera.example.com \
		$(PY) manage.py check --deploy --fail-level WARNING

worker: venv
	$(VENV)/bin/celery -A tessera_site worker --loglevel=INFO

beat: venv
	$(VENV)/bin/celery -A tessera_site beat --loglevel=INFO

clean:
	rm -rf var/tessera.sqlite3 var/media var/demo
