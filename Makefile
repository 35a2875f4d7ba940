# The two set-up commands of the README: `make run` and `make test`.
# Everything else is meson; this file only strings the steps together.

BUILD      ?= build
ASAN_BUILD ?= build-asan
DATA_DIR   ?= $(CURDIR)/data
PYTHON     ?= /usr/bin/python3
KUNCI      := $(BUILD)/kunci

.PHONY: all deps test-deps run test deb package unit unit-asan unit-pgsql integration integration-asan integration-pgsql integration-asan-pgsql cluster attack faults browser browser-asan browser-pgsql fuzz format format-check bench clean

all: $(KUNCI)

deps:
	@scripts/install-deps.sh build

test-deps:
	@scripts/install-deps.sh test

$(BUILD)/build.ninja:
	meson setup $(BUILD)

$(KUNCI): deps $(BUILD)/build.ninja FORCE
	ninja -C $(BUILD)

FORCE:

run: $(KUNCI)
	@scripts/run-dev.sh $(KUNCI) $(DATA_DIR)

# The node test runner goes last: its closing lines summarise the run for CI.
test: test-deps $(KUNCI) format-check unit unit-asan unit-pgsql fuzz integration integration-asan integration-pgsql integration-asan-pgsql cluster package attack faults browser browser-asan browser-pgsql

# The Debian packages (debian/), built from a copy of the sources in $(BUILD)/deb: kunci and
# libpam-kunci in $(BUILD)/deb, checked by lintian. The unit tests run in `make unit`.
DEB_DIR := $(BUILD)/deb
deb: test-deps
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	git ls-files -z --cached --others --exclude-standard | xargs -0 cp -a --parents -t $(DEB_DIR)/src
	cd $(DEB_DIR)/src && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b
	lintian --fail-on error --suppress-tags bad-distribution-in-changes-file $(DEB_DIR)/*.changes

# Installs the packages on this machine (if kunci is not installed already), checks them
# and purges them: tests/package.
package: deb
	KUNCI_DEB_DIR=$(CURDIR)/$(DEB_DIR) $(PYTHON) -m pytest -q tests/package

unit: $(KUNCI)
	meson test -C $(BUILD) --print-errorlogs

$(ASAN_BUILD)/build.ninja:
	CC=clang meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false

unit-asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 meson test -C $(ASAN_BUILD) --print-errorlogs

integration: $(KUNCI)
	KUNCI_BIN=$(CURDIR)/$(KUNCI) $(PYTHON) -m pytest -q tests/integration

# The same integration tests against the sanitizer build: the server, the CLI and pam_kunci
# (loaded into pamtester with the sanitizer's runtime) under ASan+UBSan, on both stores.
ASAN_RUNTIME = $(shell clang -print-file-name=libclang_rt.asan-x86_64.so)
ASAN_ENV = KUNCI_BIN=$(CURDIR)/$(ASAN_BUILD)/kunci \
	KUNCI_PAM_MODULE=$(CURDIR)/$(ASAN_BUILD)/pam_kunci.so KUNCI_PAM_PRELOAD=$(ASAN_RUNTIME) \
	ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
integration-asan: unit-asan
	$(ASAN_ENV) $(PYTHON) -m pytest -q tests/integration

integration-asan-pgsql: unit-asan
	$(ASAN_ENV) KUNCI_TEST_STORE=postgresql $(PYTHON) -m pytest -q tests/integration

# Three kunci servers on one PostgreSQL behind one nginx (tests/cluster): sessions, app
# passwords and lockouts across nodes, a node killed under load, the database restarted.
cluster: $(KUNCI)
	KUNCI_BIN=$(CURDIR)/$(KUNCI) $(PYTHON) -m pytest -q tests/cluster

# The attack suite: each attack of the security review, as it was done, against a kunci of
# its own per test (tests/attack, SECURITY.md).
attack: $(KUNCI)
	KUNCI_BIN=$(CURDIR)/$(KUNCI) $(PYTHON) -m pytest -q tests/attack

# The fault suite: the database replaced, full, read-only or frozen; signals; kill -9
# (tests/faults). The shutdown under load runs the sanitizer build.
faults: $(KUNCI) unit-asan
	KUNCI_BIN=$(CURDIR)/$(KUNCI) KUNCI_ASAN_BIN=$(CURDIR)/$(ASAN_BUILD)/kunci \
	ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	$(PYTHON) -m pytest -q tests/faults

# The web UI in Debian's Chromium, driven by playwright-core (npm), against the real stack.
browser: $(KUNCI)
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	cd tests/browser && KUNCI_BIN=$(CURDIR)/$(KUNCI) node --test --test-concurrency=1

# The sanitizer and PostgreSQL passes run the browser files named here (BROWSER_AGAIN; all
# of them with BROWSER_AGAIN=): the whole suite three times would not fit the CI's 25
# minutes on two cores. The integration suite runs in full on both stores and under ASan.
BROWSER_AGAIN ?= organization.test.mjs passkeys.test.mjs

browser-asan: unit-asan
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	cd tests/browser && KUNCI_BIN=$(CURDIR)/$(ASAN_BUILD)/kunci \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	node --test --test-concurrency=1 $(BROWSER_AGAIN)

# The browser tests once on PostgreSQL.
browser-pgsql: $(KUNCI)
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	cd tests/browser && KUNCI_BIN=$(CURDIR)/$(KUNCI) KUNCI_TEST_STORE=postgresql \
	node --test --test-concurrency=1 $(BROWSER_AGAIN)

# Each fuzz target for FUZZ_SECONDS on its seed corpus (in a scratch copy); prints each
# target's coverage before and after (scripts/fuzz.sh).
FUZZ_SECONDS ?= 12
FUZZ_TARGETS = inputs config webauthn nginx_escape basic socket_line cookie accept_language forwarded_for json_body route device
build-fuzz/build.ninja:
	CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false

fuzz: deps build-fuzz/build.ninja
	ninja -C build-fuzz $(addprefix tests/fuzz/fuzz_,$(FUZZ_TARGETS))
	scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The same unit and integration tests on a real PostgreSQL (started in a scratch folder).
PG_PORT ?= $(shell $(PYTHON) -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
unit-pgsql: $(KUNCI)
	d=$$(mktemp -d /tmp/kunci-pg-XXXXXX) && chmod 755 $$d && \
	uri=$$(scripts/test-postgres.sh start $$d/pg $(PG_PORT)) && \
	KUNCI_TEST_PG=$$uri meson test -C $(BUILD) --print-errorlogs --num-processes 1 \
	  test_decision test_mfa test_webauthn test_device; rc=$$?; scripts/test-postgres.sh stop $$d/pg; rm -rf $$d; exit $$rc

integration-pgsql: $(KUNCI)
	KUNCI_BIN=$(CURDIR)/$(KUNCI) KUNCI_TEST_STORE=postgresql $(PYTHON) -m pytest -q tests/integration

format:
	clang-format -i src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c

format-check:
	clang-format --dry-run --Werror src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c

# The benchmarks (BENCHMARKS.md gives each one's command and figures); minutes each.
bench: test-deps $(KUNCI)
	scripts/install-deps.sh bench
	bench/run.sh $(KUNCI)
	BENCH_STORE=postgresql bench/run.sh $(KUNCI)
	bench/hash.sh $(KUNCI)
	KUNCI_BIN=$(CURDIR)/$(KUNCI) $(PYTHON) bench/imap.py

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
