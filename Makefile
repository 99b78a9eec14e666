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

.PHONY: sim test bench lock clean web

$(STAMP): $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r $(LOCK)
	@rm -f $(VENV)/.installed-* && touch $@

# the web UI's build tools and chart library, pinned by package-lock.json
NPM_STAMP := node_modules/.installed-$(shell cksum < package-lock.json | cut -d' ' -f1)
$(NPM_STAMP): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@rm -f node_modules/.installed-* && touch $@

# the real peers the tests start (Debian's packages): the browser the UI tests drive
# (chromium: no browser download at test time), the NTP server of the time tests (chrony),
# the MQTT broker of the MQTT tests (mosquitto, with mosquitto_passwd) and the pseudo-terminal
# the deploy tests put a MicroPython board behind (socat)
PEERS_STAMP := $(VENV)/.peers-chromium-chrony-mosquitto-socat
$(PEERS_STAMP):
	@{ command -v chromium && test -x /usr/sbin/chronyd && test -x /usr/sbin/mosquitto && \
		command -v mosquitto_passwd && command -v socat; } >/dev/null || \
		{ apt-get update -qq && apt-get install -y -qq chromium chrony mosquitto mosquitto-clients socat; }
	@touch $@

## make web: build the web UI into build/www (gzipped, as the device serves it)
web: $(STAMP) $(NPM_STAMP)
	$(BIN)/python tools/web.py

## make sim [SPEED=1] [SCENARIO=clear_day] [SECONDS=0] [PORT=8080] [DATA=build/sim] [NTP=] [DNS=]
##          [WIFI=setup] [DNS_PORT=8053]:
## the firmware on the simulated board, serving the web UI and the API on http://127.0.0.1:PORT;
## DATA is its flash; NTP=host[:port],... takes the time from those servers (names through
## the DNS server DNS=addr[:port]) instead of the scenario's clock; WIFI=setup starts a new
## board (its flash build/sim-setup, emptied first) with a simulated radio and no saved
## network: the setup portal on http://127.0.0.1:PORT/, the captive DNS on UDP DNS_PORT (a
## DATA= given with it is used as it is)
PORT ?= 8080
WIFI ?=
SETUP_DATA := $(CURDIR)/build/sim-setup
DATA ?= $(if $(WIFI),$(SETUP_DATA),$(CURDIR)/build/sim)
NTP ?=
DNS ?=
DNS_PORT ?= 8053
WIRING ?=

sim: web
	@$(if $(WIFI),$(if $(filter $(SETUP_DATA),$(DATA)),rm -rf $(SETUP_DATA)))
	@mkdir -p $(DATA)
	cd firmware && MICROPYPATH=.frozen:$(CURDIR)/firmware $(MP) main.py \
		--speed $(SPEED) --scenario $(SCENARIO) --seconds $(SECONDS) --data $(DATA) --port $(PORT) \
		--www $(CURDIR)/build/www --ntp "$(NTP)" --dns "$(DNS)" --wifi "$(WIFI)" --dns-port $(DNS_PORT) \
		--wiring "$(WIRING)"

## make test: every test (CPython logic tests, the firmware under MicroPython, ESP32 compile,
## the web UI in chromium); the tests build the web UI themselves
test: $(STAMP) $(NPM_STAMP) $(PEERS_STAMP)
	$(BIN)/python -m pytest

## make bench: benchmark tables (real-time cost, regulation vs EcoPV / Mk2 / oracle, HTTP load,
## the device image's heap per feature)
bench: $(STAMP) $(NPM_STAMP) $(PEERS_STAMP)
	$(BIN)/python bench/realtime_cost.py
	$(BIN)/python bench/regulation.py
	$(BIN)/python bench/http.py
	$(BIN)/python bench/memory.py

## make lock: re-pin the dev tools after changing pyproject.toml
lock:
	rm -rf build/lockenv && $(PYTHON) -m venv build/lockenv
	build/lockenv/bin/python -m pip install -q $$(sed -n '/^dev = \[/,/^\]/p' pyproject.toml | grep -o '"[^"]*"' | tr -d '"')
	(echo "# Lock of the dev tools (pyproject.toml [dev] plus dependencies). Regenerate: make lock"; build/lockenv/bin/python -m pip freeze) > $(LOCK)

clean:
	rm -rf build $(VENV)
