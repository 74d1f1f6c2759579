# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The development server's port: `make run PORT=8001` when 8000 is taken. The addresses printed
# (and the links in development mail) follow it.
PORT ?= 8000

.PHONY: run test install lint format migrate demo clean

# The virtualenv, rebuilt whenever requirements.txt changes. The stamp is written last, so an
# install that failed halfway is simply retried by the next make.
$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11 or newer is needed; try: make PYTHON=python3.11 ..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

# Development server with demo data; DEBUG on, SQLite unless DATABASE_URL is set. The task
# worker that delivers mail runs beside it and stops when the server does.
run: export DEBUG := 1
run: export PORTAL_BASE_URL := http://127.0.0.1:$(PORT)
run: migrate demo
	$(PY) manage.py db_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

migrate: export DEBUG ?= 1
migrate: $(STAMP)
	$(PY) manage.py migrate --noinput

# Demo agents and accounts; ends with where to sign in and the passwords of the accounts it
# created (printed once; the admin's from DJANGO_SUPERUSER_PASSWORD when set).
demo: export DEBUG ?= 1
demo: export PORTAL_BASE_URL ?= http://127.0.0.1:$(PORT)
demo: migrate
	$(PY) manage.py load_demo

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
