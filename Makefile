# cityops — plain Makefile. `make` builds bin/cityops; `make check` installs
# dependencies, builds and runs every test; `make demo` builds and serves the
# Hohhot demo city. `make SANITIZE=1` builds with ASan+UBSan into build-san/.

CC      ?= cc
PKGS    := libevent libevent_pthreads jansson sqlite3 libpq proj libargon2 xlsxwriter libxml-2.0
CSTD    := -std=c11 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers
OPT     ?= -O2 -g
SANITIZE ?= 0

ifeq ($(SANITIZE),1)
BUILD   := build-san
OPT     := -O1 -g -fno-omit-frame-pointer
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all
BIN     := $(BUILD)/cityops
else
BUILD   := build
SANFLAGS :=
BIN     := bin/cityops
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(shell geos-config --cflags 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) $(shell geos-config --clibs 2>/dev/null)
CFLAGS  := $(CSTD) $(WARN) $(OPT) $(SANFLAGS) -Isrc -I$(BUILD)/gen $(PKG_CFLAGS) -pthread -MMD -MP
LDFLAGS := $(SANFLAGS) -pthread
LIBS    := $(PKG_LIBS) -lm

SRC_ALL := $(sort $(wildcard src/*/*.c))
SRC_MAIN := src/cli/main.c
SRC_LIB := $(filter-out $(SRC_MAIN),$(SRC_ALL))
GEN_SRC := $(BUILD)/gen/holidays_data.c
OBJ_LIB := $(SRC_LIB:%.c=$(BUILD)/%.o) $(BUILD)/gen/holidays_data.o
OBJ_MAIN := $(SRC_MAIN:%.c=$(BUILD)/%.o)

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps check unit httptest e2e demo clean
all: $(BIN)

deps:
	@bash scripts/install-deps.sh

$(BIN): $(OBJ_MAIN) $(BUILD)/libcityops.a
	@mkdir -p $(dir $@)
	@echo "  LD    $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/libcityops.a: $(OBJ_LIB)
	@rm -f $@
	@echo "  AR    $@"
	@ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/gen/holidays_data.c: scripts/gen-holidays.mjs node_modules/chinese-days/dist/chinese-days.json
	@mkdir -p $(dir $@)
	node scripts/gen-holidays.mjs > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/holidays_data.o: $(BUILD)/gen/holidays_data.c
	$(CC) $(CFLAGS) -Isrc/calendar -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libcityops.a
	@mkdir -p $(dir $@)
	@echo "  TEST  $@"
	@$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libcityops.a $(LDFLAGS) $(LIBS) -lcmocka

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

httptest: $(BIN)
	CITYOPS_BIN=$(abspath $(BIN)) node --test --test-concurrency=1 tests/http/

e2e: $(BIN)
	CITYOPS_BIN=$(abspath $(BIN)) node --test --test-concurrency=1 tests/e2e/

check: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) httptest
	$(MAKE) unit-pg
	$(MAKE) httptest-pg
	$(MAKE) multinode
	$(MAKE) durability
	$(MAKE) e2e
	$(MAKE) fuzz-smoke

demo: deps
	$(MAKE) all
	./bin/cityops demo

clean:
	rm -rf build build-san bin build-fuzz

# ---- fuzzing (libFuzzer, clang) -------------------------------------------
# `make fuzz FUZZ_SECONDS=N` runs every fuzz/fuzz_*.c target for N seconds
# (default 60); `make fuzz-smoke` runs each for FUZZ_SMOKE_SECONDS (10) and is
# part of `make check`. The library is built with clang into build-fuzz/
# (-fsanitize=fuzzer-no-link,address,undefined), each target with
# -fsanitize=fuzzer,address,undefined. Seeds: fuzz/corpus/<target>/ (read
# only); new inputs go to build-fuzz/corpus/<target>/, crashes to
# build-fuzz/crashes/<target>/ and fail the target. See docs/fuzzing.md.
FUZZ_BUILD   := build-fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_OPT     := -O1 -g -fno-omit-frame-pointer
FUZZ_SAN     := address,undefined -fno-sanitize-recover=all
FUZZ_TARGETS := $(patsubst fuzz/%.c,%,$(sort $(wildcard fuzz/fuzz_*.c)))
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)
FUZZ_SUPPORT := fuzz/fz_req.c fuzz/fz_app.c fuzz/fz_values.c
# libevent calls answered by fuzz/fz_req.c for fake requests, cheap argon2
FUZZ_WRAP    := evhttp_request_get_evhttp_uri evhttp_request_get_command evhttp_send_reply \
                evhttp_send_reply_start evhttp_request_get_connection \
                evhttp_connection_get_base evhttp_connection_set_closecb \
                evhttp_connection_get_peer argon2id_hash_encoded argon2id_verify
FUZZ_CFLAGS  := $(CSTD) $(WARN) $(FUZZ_OPT) -fsanitize=fuzzer,$(FUZZ_SAN) -Isrc -Ifuzz \
                $(PKG_CFLAGS) -pthread
FUZZ_LDFLAGS := $(foreach s,$(FUZZ_WRAP),-Wl,--wrap=$(s))

.PHONY: fuzz fuzz-build fuzz-lib fuzz-smoke
fuzz-lib:
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) BIN=$(FUZZ_BUILD)/cityops CC=$(FUZZ_CC) \
	  OPT="$(FUZZ_OPT)" SANFLAGS="-fsanitize=fuzzer-no-link,$(FUZZ_SAN)" $(FUZZ_BUILD)/libcityops.a

fuzz-build: fuzz-lib
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

ifneq ($(BUILD),$(FUZZ_BUILD))
$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_SUPPORT) fuzz/fz.h fuzz/fz_values.h $(FUZZ_BUILD)/libcityops.a
	@echo "  FUZZ  $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SUPPORT) $(FUZZ_BUILD)/libcityops.a \
	  $(FUZZ_LDFLAGS) $(LIBS)
endif

fuzz: fuzz-build
	@bash fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	@bash fuzz/run.sh --fresh $(FUZZ_BUILD) $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

# ---- reliability: crash durability and load -------------------------------
# `make durability` kills the server with SIGKILL at random moments under
# concurrent writes (tests/durability/, DURABILITY_ROUNDS=20 by default) and
# checks nothing acknowledged is lost; it is part of `make check`. `make load`
# runs the wrk load test (tests/load/run.sh, 2 x LOAD_SECONDS=10 s; needs wrk)
# and is not. See docs/reliability.md.
.PHONY: durability load
durability: $(BIN)
	CITYOPS_BIN=$(abspath $(BIN)) node --test --test-concurrency=1 tests/durability/

load: $(BIN)
	CITYOPS_BIN=$(abspath $(BIN)) bash tests/load/run.sh

-include $(OBJ_LIB:.o=.d) $(OBJ_MAIN:.o=.d) $(UNIT_BIN:=.d)

# ---- PostgreSQL back-end (issue 10) ----------------------------------------
# The store-level unit tests and the HTTP suite again, against a throw-away
# PostgreSQL 15 + PostGIS cluster on loopback (scripts/pg-test-cluster.sh:
# initdb in /tmp, random port, trust auth), stopped and removed afterwards.
# Tests that open stores take CITYOPS_TEST_PG (tests/unit/store_fixture.h,
# tests/http/lib.mjs); the others simply run twice.
PG_CLUSTER := bash scripts/pg-test-cluster.sh

.PHONY: unit-pg httptest-pg
unit-pg: $(UNIT_BIN)
	@set -e; eval "$$($(PG_CLUSTER) start)"; export CITYOPS_TEST_PG; \
	trap '$(PG_CLUSTER) stop "$$CITYOPS_TEST_PG_DIR"' EXIT; \
	for t in $(UNIT_BIN); do echo "== $$t (PostgreSQL)"; $$t; done

httptest-pg: $(BIN)
	@set -e; eval "$$($(PG_CLUSTER) start)"; export CITYOPS_TEST_PG; \
	trap '$(PG_CLUSTER) stop "$$CITYOPS_TEST_PG_DIR"' EXIT; \
	CITYOPS_BIN=$(abspath $(BIN)) node --test --test-concurrency=1 tests/http/

# Several nodes on one database (tests/multinode/): three `cityops serve` nodes on
# one throw-away cluster behind nginx (/usr/sbin/nginx, scripts/install-deps.sh):
# cross-node visibility within 1 s, two dispatchers racing through two nodes, and
# mixed traffic through nginx with one node killed by SIGKILL. The test stops its
# nodes and nginx and removes its temp dir and database itself, on failure too;
# the trap stops the cluster.
.PHONY: multinode
multinode: $(BIN)
	@set -e; eval "$$($(PG_CLUSTER) start)"; export CITYOPS_TEST_PG CITYOPS_TEST_PG_DIR; \
	trap '$(PG_CLUSTER) stop "$$CITYOPS_TEST_PG_DIR"' EXIT; \
	CITYOPS_BIN=$(abspath $(BIN)) node --test --test-concurrency=1 tests/multinode/

# ---- the test suites under ASan + UBSan -----------------------------------
# `make check-san` builds with SANITIZE=1 (build-san/) and runs the unit, HTTP,
# multi-node and crash-durability suites against that build; any sanitizer
# report fails them (tests/http/lib.mjs and the multi-node test scan the logs). CI (.ci/run) runs it after
# `make check`.
.PHONY: check-san
check-san: deps
	$(MAKE) SANITIZE=1 all
	$(MAKE) SANITIZE=1 unit
	$(MAKE) SANITIZE=1 httptest
	$(MAKE) SANITIZE=1 multinode
	$(MAKE) SANITIZE=1 durability
