# Makefile — builds, tests, runs and installs paperwatch. Plain GNU make, pkg-config for every
# library. `make run` and `make test` install missing Debian packages first.

VERSION := 0.1.0
PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
MANDIR ?= $(PREFIX)/share/man
CC ?= cc
CLANG ?= clang
PYTHON ?= /usr/bin/python3
CFLAGS ?= -O2 -g

PKGS := libconfig sqlite3 jansson libutf8proc libcrypto libxxhash
# Libraries Debian ships without a pkg-config file: linked by name. libstemmer's header is
# used, but daemon/match/like.c loads the library when a like rule needs it.
NOPC_LIBS := -lm
# Headers only: notify/net.c loads libcurl when a notifier needs the network, daemon/state_pg.c
# libpq when the state is a PostgreSQL database, daemon/match/rx.c PCRE2 when a rule has a
# regular expression.
HEADER_PKGS := libcurl libpq libpcre2-8

# The language the sources are written in, for every build and for the analysers.
STD := -std=c11
WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
	-Wcast-qual -Wwrite-strings -Wformat=2 -Wundef -Wconversion -Werror
CPPFLAGS += -D_GNU_SOURCE -DPW_VERSION='"$(VERSION)"' -Idaemon -Iconfig -Inotify
SANITIZE := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# For valgrind: no sanitizer (the two do not mix), little optimisation, so reports name the line.
# PCRE2's JIT-compiled matchers are code valgrind cannot see into (Debian builds PCRE2 without
# its valgrind support), and every read they make looks uninitialised: this build interprets.
VALGRIND_CFLAGS := -O1 -g -DPW_RX_NO_JIT

# pkg-config runs once, after the dependency check has made sure the packages are there.
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(shell pkg-config --cflags $(PKGS) $(HEADER_PKGS)))$(PKG_CFLAGS)
PKG_LIBS = $(eval PKG_LIBS := $$(shell pkg-config --libs $(PKGS)) $(NOPC_LIBS))$(PKG_LIBS)
CMOCKA_LIBS = $(eval CMOCKA_LIBS := $$(shell pkg-config --libs cmocka))$(CMOCKA_LIBS)
CURL_LIBS = $(eval CURL_LIBS := $$(shell pkg-config --libs libcurl))$(CURL_LIBS)
# The unit tests make the databases of their shared states with libpq itself, and the naive
# matcher of test_match_diff.c runs PCRE2 itself.
PQ_LIBS = $(eval PQ_LIBS := $$(shell pkg-config --libs libpq libpcre2-8))$(PQ_LIBS)

# Debian packages: what building needs, and what the tests add.
BUILD_DEBS := gcc libc6-dev make pkg-config libcurl4-openssl-dev libconfig-dev libsqlite3-dev \
	libjansson-dev libutf8proc-dev libpcre2-dev libssl-dev libstemmer-dev libpq-dev libxxhash-dev tzdata
TEST_DEBS := libcmocka-dev clang libclang-rt-14-dev clang-format clang-tidy cppcheck python3 \
	python3-aiosmtpd openssl systemd groff-base man-db faketime postgresql
VALGRIND_DEBS := valgrind
# The benchmarks' baselines (a shell pipeline, a Python watchdog script), their plots, and the
# PostgreSQL server the shared section runs instances on.
BENCH_DEBS := python3 inotify-tools python3-watchdog curl grep gnuplot-nox postgresql

SRCS := \
	config/config.c \
	config/config_libraries.c \
	config/config_read.c \
	config/config_types.c \
	daemon/arena.c \
	daemon/cadence.c \
	daemon/cli.c \
	daemon/cli_like.c \
	daemon/cli_read.c \
	daemon/cli_state.c \
	daemon/daemon.c \
	daemon/err.c \
	daemon/health.c \
	daemon/hex.c \
	daemon/hmap.c \
	daemon/libwatch.c \
	daemon/log.c \
	daemon/loop.c \
	daemon/match/dict.c \
	daemon/match/library.c \
	daemon/match/like.c \
	daemon/match/litscan.c \
	daemon/match/match.c \
	daemon/match/query.c \
	daemon/match/rx.c \
	daemon/match/text.c \
	daemon/paper.c \
	daemon/parse/fallback.c \
	daemon/parse/format_list.c \
	daemon/parse/format_records.c \
	daemon/parse/format_table.c \
	daemon/parse/idset.c \
	daemon/parse/lex.c \
	daemon/parse/parse.c \
	daemon/parse/parser.c \
	daemon/pipeline.c \
	daemon/schedule.c \
	daemon/sdnotify.c \
	daemon/state.c \
	daemon/state_pg.c \
	daemon/utf8.c \
	daemon/watch.c \
	daemon/xmalloc.c \
	notify/net.c \
	notify/notify.c \
	notify/notify_discord.c \
	notify/notify_email.c \
	notify/notify_file.c \
	notify/notify_slack.c \
	notify/notify_webhook.c \
	notify/outbox.c \
	build/gen/default_conf.c
MAIN := daemon/main.c

UNIT_TESTS := \
	tests/unit/test_arena.c \
	tests/unit/test_config.c \
	tests/unit/test_hmap.c \
	tests/unit/test_idset.c \
	tests/unit/test_lex.c \
	tests/unit/test_library.c \
	tests/unit/test_like.c \
	tests/unit/test_loop.c \
	tests/unit/test_match.c \
	tests/unit/test_match_diff.c \
	tests/unit/test_notify.c \
	tests/unit/test_notify_discord.c \
	tests/unit/test_notify_email.c \
	tests/unit/test_notify_slack.c \
	tests/unit/test_parse.c \
	tests/unit/test_query.c \
	tests/unit/test_rx.c \
	tests/unit/test_schedule.c \
	tests/unit/test_state.c \
	tests/unit/test_text.c \
	tests/unit/test_utf8.c \
	tests/unit/test_watch.c

# Code only the tests use, linked into the unit tests and benchmarks, not into paperwatch.
TEST_SRCS := \
	tests/bench/timing.c \
	tests/unit/digest.c

FUZZERS := \
	tests/fuzz/fuzz_config.c \
	tests/fuzz/fuzz_library.c \
	tests/fuzz/fuzz_parse.c \
	tests/fuzz/fuzz_query.c

BENCHES := \
	tests/bench/bench_like.c \
	tests/bench/bench_match.c \
	tests/bench/bench_parse.c

# libcurl's floor for the memory benchmark: a program of its own, linked with libcurl alone.
CURL_FLOOR := tests/bench/curl_floor.c

# Static analysis covers every C file but the generated one; clang-tidy leaves out the unit tests,
# whose cmocka assertions its analyzer cannot see through, and which would double its time.
TIDY_SRCS := $(filter-out build/%,$(SRCS)) $(MAIN) $(TEST_SRCS) $(FUZZERS) $(BENCHES) \
	$(CURL_FLOOR)
LINT_SRCS := $(TIDY_SRCS) $(UNIT_TESTS)

REL_OBJS := $(SRCS:%.c=build/rel/%.o)
ASAN_OBJS := $(SRCS:%.c=build/asan/%.o)
VG_OBJS := $(SRCS:%.c=build/valgrind/%.o)
FUZZ_OBJS := $(SRCS:%.c=build/fuzz/%.o)
UNIT_BINS := $(UNIT_TESTS:%.c=build/asan/%)
VG_UNIT_BINS := $(UNIT_TESTS:%.c=build/valgrind/%)
FUZZ_BINS := $(FUZZERS:%.c=build/fuzz/%)
BENCH_BINS := $(BENCHES:%.c=build/rel/%) $(CURL_FLOOR:%.c=build/rel/%)

C_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null || find daemon notify config tests -name '*.[ch]')

# Sample digests for `make run`: the shared ones when present, else the test fixtures.
DIGESTS := $(firstword $(wildcard ../shared/digests/*.txt) tests/fixtures/digests/000_6b369aa832a2006d.txt)
DIGESTS := $(dir $(DIGESTS))*.txt

# Quiet by default: `make V=1` shows every command.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2)
endif

FUZZ_SECONDS ?= 60
FUZZ_TEST_SECONDS ?= 10
STRESS_FUZZ_SECONDS ?= 600

.PHONY: all test run install uninstall clean bench fuzz stress valgrind format deps deps-test
.DELETE_ON_ERROR:
.SECONDARY:

all: paperwatch

# Installs (as root) or names (otherwise) the Debian packages missing from $(1).
define need_debs
	@missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${db:Status-Abbrev}' $$p 2>/dev/null | grep -q '^ii' || echo $$p; \
	done | tr '\n' ' '); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing Debian packages: $$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
				|| exit 1; \
		else \
			echo "paperwatch needs these Debian packages: $$missing"; \
			echo "install them with:  sudo apt-get install -y $$missing"; \
			exit 1; \
		fi; \
	fi
	@mkdir -p $(@D) && touch $@
endef

build/.deps-build: Makefile
	$(call need_debs,$(BUILD_DEBS))

build/.deps-test: Makefile build/.deps-build
	$(call need_debs,$(TEST_DEBS))

build/.deps-valgrind: Makefile build/.deps-test
	$(call need_debs,$(VALGRIND_DEBS))

build/.deps-bench: Makefile build/.deps-build
	$(call need_debs,$(BENCH_DEBS))

deps: build/.deps-build
deps-test: build/.deps-test

paperwatch: $(REL_OBJS) build/rel/daemon/main.o
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

# The example configuration, built into the binary as its default.
build/gen/default_conf.c: config/paperwatch.conf.example
	$(call say,GEN,$@)
	@mkdir -p $(@D)
	$(Q){ printf '/* Generated by make from %s: the built-in configuration. */\n' '$<'; \
	  printf '#include "config.h"\nconst char config_default_text[] =\n'; \
	  od -An -v -tx1 $< | sed 's/ \([0-9a-f][0-9a-f]\)/\\x\1/g; s/^/\t"/; s/$$/"/'; \
	  printf '\t"";\n'; } > $@

build/rel/%.o: %.c | build/.deps-build
	$(call say,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARNINGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

# The analysers' view of the build: each file with the flags of the release build.
build/compile_commands.json: Makefile | build/.deps-build
	$(call say,GEN,$@)
	$(Q)$(PYTHON) tests/lint.py compdb $@ -- $(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARNINGS) \
		$(PKG_CFLAGS) -- $(LINT_SRCS)

build/asan/%.o: %.c | build/.deps-test
	$(call say,CC-SAN,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(STD) $(CPPFLAGS) $(SANITIZE) $(WARNINGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

build/asan/libpaperwatch.a: $(ASAN_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

build/asan/tests/unit/%: build/asan/tests/unit/%.o $(TEST_SRCS:%.c=build/asan/%.o) \
		build/asan/libpaperwatch.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(SANITIZE) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS) $(PQ_LIBS)

build/valgrind/%.o: %.c | build/.deps-test
	$(call say,CC-VG,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(STD) $(CPPFLAGS) $(VALGRIND_CFLAGS) $(WARNINGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

build/valgrind/libpaperwatch.a: $(VG_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

build/valgrind/tests/unit/%: build/valgrind/tests/unit/%.o $(TEST_SRCS:%.c=build/valgrind/%.o) \
		build/valgrind/libpaperwatch.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(VALGRIND_CFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS) $(PQ_LIBS)

build/valgrind/paperwatch: build/valgrind/daemon/main.o build/valgrind/libpaperwatch.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(VALGRIND_CFLAGS) -o $@ $^ $(PKG_LIBS)

build/fuzz/%.o: %.c | build/.deps-test
	$(call say,CC-FUZZ,$<)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(STD) $(CPPFLAGS) -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
		-fno-sanitize-recover=all $(WARNINGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

build/fuzz/tests/fuzz/%: build/fuzz/tests/fuzz/%.o $(FUZZ_OBJS)
	$(call say,LINK,$@)
	$(Q)$(CLANG) -g -fsanitize=fuzzer,address,undefined -o $@ $^ $(PKG_LIBS)

build/rel/tests/bench/%: build/rel/tests/bench/%.o $(TEST_SRCS:%.c=build/rel/%.o) $(REL_OBJS)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(CURL_FLOOR:%.c=build/rel/%): $(CURL_FLOOR:%.c=build/rel/%.o)
	$(call say,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(CURL_LIBS)

test: build/.deps-test paperwatch $(UNIT_BINS) $(FUZZ_BINS) build/compile_commands.json
	@PAPERWATCH=$(CURDIR)/paperwatch FUZZ_SECONDS=$(FUZZ_TEST_SECONDS) \
		$(PYTHON) tests/run.py --unit $(UNIT_BINS) --fuzz $(FUZZ_BINS) \
		--compdb build/compile_commands.json --tidy $(TIDY_SRCS) --cppcheck $(LINT_SRCS)

# The unit and integration tests again, under valgrind: no error, no leak. Slow, so not in `test`.
valgrind: build/.deps-valgrind build/valgrind/paperwatch $(VG_UNIT_BINS)
	@PAPERWATCH=$(CURDIR)/build/valgrind/paperwatch \
		$(PYTHON) tests/run.py --suite valgrind --unit $(VG_UNIT_BINS)

# Long runs: each fuzz target for STRESS_FUZZ_SECONDS, and tests/integration/stress_*.py.
stress: build/.deps-test paperwatch $(FUZZ_BINS)
	@PAPERWATCH=$(CURDIR)/paperwatch FUZZ_SECONDS=$(STRESS_FUZZ_SECONDS) \
		$(PYTHON) tests/run.py --suite stress --fuzz $(FUZZ_BINS)

# The daemon on its built-in configuration: it watches ./inbox, keeps its state in ./paperwatch.db
# and prints each alert as a JSON line.
run: paperwatch
	@mkdir -p inbox
	@echo "paperwatch is watching ./inbox: copy a digest there (cp $(DIGESTS) inbox/); Ctrl-C stops it"
	./paperwatch run

# The unit as installed: its ExecStart names the installed binary.
define install_unit
	sed 's|/usr/local/bin/paperwatch|$(PREFIX)/bin/paperwatch|; s|/usr/local/share/doc|$(PREFIX)/share/doc|' \
		systemd/paperwatch.service > $(1)
endef

# A manual page as installed: the files it names where PREFIX puts them, and the version.
define install_page
	@mkdir -p $(dir $(2))
	sed 's|/usr/local|$(PREFIX)|g; s|^\(\.TH .*\) "paperwatch"|\1 "paperwatch $(VERSION)"|' $(1) > $(2)
	chmod 0644 $(2)
endef

# Everything `make install` lays down below DESTDIR, which `make uninstall` takes back; the
# configuration in SYSCONFDIR is the operator's from the moment it is there.
INSTALLED = \
	$(PREFIX)/bin/paperwatch \
	$(UNITDIR)/paperwatch.service \
	$(PREFIX)/lib/sysusers.d/paperwatch.conf \
	$(PREFIX)/lib/tmpfiles.d/paperwatch.conf \
	$(PREFIX)/share/doc/paperwatch/README.md \
	$(PREFIX)/share/doc/paperwatch/paperwatch.conf.example \
	$(MANDIR)/man1/paperwatch.1 \
	$(MANDIR)/man5/paperwatch.conf.5

install: paperwatch
	install -D -m 0755 paperwatch $(DESTDIR)$(PREFIX)/bin/paperwatch
	@mkdir -p $(DESTDIR)$(UNITDIR)
	$(call install_unit,$(DESTDIR)$(UNITDIR)/paperwatch.service)
	install -D -m 0644 systemd/paperwatch.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/paperwatch.conf
	install -D -m 0644 systemd/paperwatch.tmpfiles $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/paperwatch.conf
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/paperwatch/README.md
	install -D -m 0644 config/paperwatch.conf.example \
		$(DESTDIR)$(PREFIX)/share/doc/paperwatch/paperwatch.conf.example
	$(call install_page,daemon/paperwatch.1,$(DESTDIR)$(MANDIR)/man1/paperwatch.1)
	$(call install_page,config/paperwatch.conf.5,$(DESTDIR)$(MANDIR)/man5/paperwatch.conf.5)
	@# An existing configuration is the operator's: never overwritten.
	@if [ ! -e $(DESTDIR)$(SYSCONFDIR)/paperwatch/paperwatch.conf ]; then \
		install -D -m 0644 config/paperwatch.conf.example \
			$(DESTDIR)$(SYSCONFDIR)/paperwatch/paperwatch.conf; \
	fi

# The configuration and the state stay: they are the operator's, and a reinstall finds them.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	@if [ -d $(DESTDIR)$(PREFIX)/share/doc/paperwatch ]; then \
		rmdir --ignore-fail-on-non-empty $(DESTDIR)$(PREFIX)/share/doc/paperwatch; \
	fi

fuzz: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do \
		name=$$(basename $$f); corpus=tests/fuzz/corpus/$${name#fuzz_}; \
		work=build/fuzz/corpus/$${name#fuzz_}; mkdir -p $$work; \
		echo "== $$name for $(FUZZ_SECONDS) s"; \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fuzz/lsan.supp \
		$$f -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=build/fuzz/ $$work $$corpus \
			|| exit 1; \
	done

# Every benchmark, then its plots; sizes and sections from BENCH_* variables (tests/bench/run.py).
bench: build/.deps-bench paperwatch $(BENCH_BINS)
	@$(PYTHON) tests/bench/run.py
	@$(PYTHON) tests/bench/plot.py

format:
	clang-format -i $(C_FILES)

clean:
	rm -rf build paperwatch

-include $(shell find build -name '*.d' 2>/dev/null)
