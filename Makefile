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

.PHONY: all deps check unit httptest e2e demo clean lint
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
	$(MAKE) e2e

demo: deps
	$(MAKE) all
	./bin/cityops demo

lint:
	@bash scripts/lint.sh

clean:
	rm -rf build build-san bin

-include $(OBJ_LIB:.o=.d) $(OBJ_MAIN:.o=.d) $(UNIT_BIN:=.d)
