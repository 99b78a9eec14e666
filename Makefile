# Two commands matter (see README): `make sim` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MP := $(CURDIR)/$(BIN)/micropython
LOCK := requirements-dev.txt
STAMP := $(VENV)/.installed-$(shell cksum < $(LOCK) | cut -d' ' -f1)

SPEED ?= 1
SCENARIO ?= clear_day
SECONDS ?= 0

.PHONY: sim test bench lock clean

$(STAMP): $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r $(LOCK)
	@rm -f $(VENV)/.installed-* && touch $@

## make sim [SPEED=1] [SCENARIO=clear_day] [SECONDS=0] [PORT=8080] [DATA=build/sim]: the firmware
## on the simulated board, serving the API on http://127.0.0.1:PORT; DATA is its flash
PORT ?= 8080
DATA ?= $(CURDIR)/build/sim

sim: $(STAMP)
	@mkdir -p $(DATA)
	@$(BIN)/python tools/flash.py lib >/dev/null
	cd firmware && MICROPYPATH=.frozen:$(CURDIR)/firmware:$(CURDIR)/build/mplib $(MP) main.py \
		--speed $(SPEED) --scenario $(SCENARIO) --seconds $(SECONDS) --data $(DATA) --port $(PORT)

## make test: every test (CPython logic tests, the firmware under MicroPython, ESP32 compile)
test: $(STAMP)
	$(BIN)/python -m pytest

## make bench: benchmark tables (real-time cost, regulation vs EcoPV / Mk2 / oracle, HTTP load)
bench: $(STAMP)
	$(BIN)/python bench/realtime_cost.py
	$(BIN)/python bench/regulation.py
	$(BIN)/python bench/http.py

## make lock: re-pin the dev tools after changing pyproject.toml
lock:
	rm -rf build/lockenv && $(PYTHON) -m venv build/lockenv
	build/lockenv/bin/python -m pip install -q $$(sed -n '/^dev = \[/,/^\]/p' pyproject.toml | grep -o '"[^"]*"' | tr -d '"')
	(echo "# Lock of the dev tools (pyproject.toml [dev] plus dependencies). Regenerate: make lock"; build/lockenv/bin/python -m pip freeze) > $(LOCK)

clean:
	rm -rf build $(VENV)
