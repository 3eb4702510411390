# yoc - one GNU Makefile. See docs/ARCHITECTURE.md for the layout.
#
#   make            build ./yoc
#   make deps       install missing Debian packages (apt-get)
#   make check      deps, build, unit + CLI tests, fuzz corpus replay
#   make asan       the whole suite under AddressSanitizer + UBSan
#   make fuzz       run the libFuzzer targets for FUZZ_SECONDS each
#   make bench      benchmarks against peers (DuckDB from npm, R, MatchIt, statsmodels)
#   make soak       1,000 random SIGKILLs of load/analyse/pseudonymise/report
#   make demo       the main job on the synthetic default

CC      ?= gcc
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
PKGS    := sqlite3 libsodium libcrypto gsl jansson libmicrohttpd libzstd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
XLSX_LIBS  := $(shell pkg-config --libs xlsxwriter 2>/dev/null || echo -lxlsxwriter)
# MPI (Open MPI) for sharded runs, src/shard (docs/mpi.md)
MPI_CFLAGS := $(shell pkg-config --cflags ompi-c 2>/dev/null || pkg-config --cflags mpi 2>/dev/null)
MPI_LIBS   := $(shell pkg-config --libs ompi-c 2>/dev/null || pkg-config --libs mpi 2>/dev/null)
CPPFLAGS := -std=c11 -D_GNU_SOURCE -Iinclude -Isrc $(PKG_CFLAGS) $(MPI_CFLAGS)
LDLIBS  := $(PKG_LIBS) $(XLSX_LIBS) $(MPI_LIBS) -lm -lpthread
SAN     :=
BUILD   ?= build

LIB_SRC := $(sort $(filter-out src/cli/%,$(wildcard src/*/*.c)))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/replay/%)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
FUZZ_SECONDS ?= 60
# The SQLite loadable extension (docs/sql.md): position-independent objects of
# the modules it uses, every symbol hidden but its entry point.
SQLEXT_SRC := $(sort $(wildcard src/sqlext/*.c src/store/*.c src/spec/*.c src/core/*.c))
SQLEXT_OBJ := $(SQLEXT_SRC:%.c=$(BUILD)/pic/%.o)

# The popcnt instruction on an x86-64 machine that has it (the selection
# engine counts bits on every query); `make POPCNT=` builds without it.
POPCNT  ?= $(shell uname -m | grep -q x86_64 && grep -qw popcnt /proc/cpuinfo 2>/dev/null && echo -mpopcnt)
ALL_CFLAGS = $(CPPFLAGS) $(CFLAGS) $(POPCNT) $(WARN) $(SAN)

.PHONY: all deps check test asan fuzz bench soak demo clean lint
.DEFAULT_GOAL := all

all: yoc $(BUILD)/yoc_sqlite.so

ifeq ($(BUILD),build)
yoc: $(BUILD)/yoc
	@cp $< $@.tmp.$$$$ && mv -f $@.tmp.$$$$ $@
endif

# The selection engine sums packed rows in loops that -O3 vectorises (about
# a third less CPU an answer); an OPT given to make still rules.
$(BUILD)/src/server/srv_engine.o: OPT = -O3

$(BUILD)/%.o: %.c $(wildcard include/yoc/*.h) $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libyoc.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/yoc: $(CLI_OBJ) $(BUILD)/libyoc.a
	$(CC) $(CFLAGS) $(SAN) -o $@ $(CLI_OBJ) $(BUILD)/libyoc.a $(LDLIBS)

# Without $(SAN): a host such as the sqlite3 CLI cannot load a sanitized library.
$(BUILD)/pic/%.o: %.c $(wildcard include/yoc/*.h) $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -fPIC -fvisibility=hidden -DYOC_SQLITE_EXTENSION -c $< -o $@

$(BUILD)/yoc_sqlite.so: $(SQLEXT_OBJ)
	$(CC) $(CFLAGS) -shared -Wl,-z,defs -o $@ $^ $(PKG_LIBS) -lm -lpthread

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libyoc.a tests/unit/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libyoc.a -lcmocka $(LDLIBS)

$(BUILD)/replay/%: tests/fuzz/%.c tests/fuzz/replay.c $(BUILD)/libyoc.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< tests/fuzz/replay.c $(BUILD)/libyoc.a $(LDLIBS)

build-fuzz/%: tests/fuzz/%.c $(LIB_SRC)
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined -o $@ $< $(LIB_SRC) $(LDLIBS)

deps:
	@sh scripts/deps.sh

tests-built: $(BUILD)/yoc $(BUILD)/yoc_sqlite.so $(UNIT_BIN) $(REPLAY_BIN)

check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory tests-built
	@sh tests/run.sh $(BUILD)

test: check

asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT=-O1 \
		SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" tests-built
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		sh tests/run.sh build-asan

fuzz: deps $(FUZZ_BIN)
	@for t in $(FUZZ_BIN); do n=$$(basename $$t); \
		mkdir -p tests/fuzz/corpus/$$n; \
		echo "fuzz $$n for $(FUZZ_SECONDS)s"; \
		$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 tests/fuzz/corpus/$$n || exit 1; \
	done

bench: deps all
	@sh bench/run.sh

soak: deps all
	@sh scripts/soak.sh

demo: deps all
	@./yoc demo

lint:
	@sh scripts/checksrc.sh

clean:
	rm -rf build build-asan build-fuzz yoc
