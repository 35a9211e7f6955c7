# libsfr: build, test, install. GNU make only.
#
#   make            the shared and static libraries, in build/
#   make check      install missing packages (make deps-test), build (the benchmarks
#                   too), run every suite, compare the ABI with abi/, run each fuzz
#                   target CHECK_FUZZ_SECONDS (5)
#   make install    headers, both libraries, sfr.pc and the CMake package (sfrConfig.cmake);
#                   PREFIX, DESTDIR, LIBDIR, INCLUDEDIR are honoured
#                   (make install also installs the Python package to PYTHONDIR, see
#                   below; make install-python alone)
#   make demo       train fmnist-resnet on Fashion-MNIST with SFR for one epoch
#   make examples   the C, C++ (and MPI) example programs, in build/examples/
#   make plot CSV=run.csv [PNG=run.png]   a trainer's per-epoch CSV as a PNG
#   make docs       the API reference from include/sfr/*.h, in docs/api/html/ (Doxygen)
#   make uninstall, make clean
#   make deps       install the Debian packages a build, an install and the demo need
#   make deps-test  ... and those the tests, the examples and the reference add
#   make fuzz       libFuzzer targets in build/fuzz/, each run FUZZ_SECONDS (default 60)
#   make bench      time the SFR objective, whole training steps and oneDNN's bf16 kernels (bench/)
#   make abi-check, abi-baseline   compare with / regenerate abi/libsfr.abi
#   make check-asan       every suite under AddressSanitizer + UBSan, in build-asan/
#   make check-valgrind   every suite under valgrind's memcheck, in build-valgrind/

# The version lives in include/sfr/version.h and nowhere else.
version_part = $(shell sed -n 's/^\#define SFR_VERSION_$(1) \([0-9][0-9]*\).*/\1/p' include/sfr/version.h)
VERSION_MAJOR := $(call version_part,MAJOR)
VERSION_MINOR := $(call version_part,MINOR)
VERSION_PATCH := $(call version_part,PATCH)
VERSION := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)

PREFIX ?= /usr/local
EXEC_PREFIX ?= $(PREFIX)
LIBDIR ?= $(EXEC_PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=
# The Python package python/sfr goes where PYTHON looks for packages under
# PREFIX: lib/python3.X/dist-packages with Debian's interpreter (whose path
# holds dist-packages), site-packages with others. No PYTHON: not installed.
PYTHON ?= /usr/bin/python3
PYTHON_SUBDIR = $(shell $(PYTHON) -c 'import sys; \
    d = "dist-packages" if any(p.endswith("dist-packages") for p in sys.path) else "site-packages"; \
    print("python%d.%d/%s" % (sys.version_info[0], sys.version_info[1], d))' 2>/dev/null)
PYTHONDIR ?= $(if $(PYTHON_SUBDIR),$(PREFIX)/lib/$(PYTHON_SUBDIR))

CC ?= cc
CFLAGS ?= -O3 -g
CXXFLAGS ?= -O3 -g
# Flags the library needs whatever the user's CFLAGS say.
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wpointer-arith -Wformat=2 -Wundef -Wvla
LIB_CFLAGS := -std=c11 -D_GNU_SOURCE -fPIC -fvisibility=hidden -fopenmp -Iinclude -Ilib \
              -DSFR_BUILDING_LIBRARY $(WARN)
LIB_LDLIBS := -ldnnl -lprotobuf-c -fopenmp -lm

# Debian packages. DEB_PACKAGES_BUILD: what building, installing and the demo
# need (make deps), so that a first `make demo` installs only those.
# DEB_PACKAGES: everything, what the tests, the examples in other languages,
# the fuzzers, the ABI check and the reference add (make deps-test, which
# make check runs).
DEB_PACKAGES_BUILD := make gcc libc6-dev binutils libdnnl-dev pkg-config zlib1g-dev \
                      dataset-fashion-mnist libprotobuf-c-dev protobuf-c-compiler libonnx-dev
DEB_PACKAGES := $(DEB_PACKAGES_BUILD) g++ check python3-numpy libopenmpi-dev openmpi-bin \
                gnuplot-nox doxygen valgrind clang libclang-rt-14-dev abigail-tools cmake \
                python3-pip python3-setuptools python3-wheel python3-onnx

BUILD := build
SONAME := libsfr.so.$(VERSION_MAJOR)
SHARED := $(BUILD)/libsfr.so.$(VERSION)
STATIC := $(BUILD)/libsfr.a
LINKS := $(BUILD)/$(SONAME) $(BUILD)/libsfr.so

LIB_SRCS := $(sort $(wildcard lib/*/*.c))
# ONNX's messages: C code protoc-c generates from the onnx.proto libonnx-dev ships.
ONNX_PROTO := /usr/include/onnx/onnx.proto
ONNX_GEN := $(BUILD)/gen/onnx.pb-c.c
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/gen/onnx.pb-c.o
HEADERS := $(sort $(wildcard include/sfr/*.h))
CXX_HEADERS := include/sfr/sfr.hpp
MAP := lib/libsfr.map
PY_SRCS := $(sort $(wildcard python/sfr/*.py))

TEST_SRCS := $(sort $(wildcard tests/*.c))
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/%.o)
TEST_RUNNER := $(BUILD)/tests/run_tests
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)
TEST_CFLAGS := -std=c11 -D_GNU_SOURCE -fopenmp -Iinclude -Ilib -I$(BUILD)/tests -I$(BUILD)/gen $(WARN) \
               -Wno-missing-prototypes $(CHECK_CFLAGS) \
               -DSFR_SOURCE_DIR='"$(CURDIR)"' -DSFR_BUILD_DIR='"$(CURDIR)/$(BUILD)"'

.PHONY: all check check-asan check-valgrind abi-check abi-baseline bench deps deps-test docs install install-python \
        uninstall clean demo examples fuzz plot
.DELETE_ON_ERROR:

all: $(SHARED) $(LINKS) $(STATIC)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(ONNX_GEN): $(ONNX_PROTO)
	@mkdir -p $(dir $@)
	protoc-c --c_out=$(dir $@) -I$(dir $(ONNX_PROTO)) $(ONNX_PROTO)

$(BUILD)/gen/onnx.pb-c.o: $(ONNX_GEN)
	$(CC) $(LIB_CFLAGS) -w $(CFLAGS) -c $< -o $@

# The ONNX code includes the generated header.
$(BUILD)/lib/onnx/%.o: LIB_CFLAGS += -I$(BUILD)/gen
ONNX_SRCS := $(filter lib/onnx/%.c,$(LIB_SRCS))
$(ONNX_SRCS:%.c=$(BUILD)/%.o): | $(ONNX_GEN)

# The regularizer's kernels may fuse multiply and add (ISO C mode forbids it
# by default): their clones for x86-64-v3 and v4 then use FMA instructions.
$(BUILD)/lib/reg/%.o: LIB_CFLAGS += -ffp-contract=fast

$(SHARED): $(LIB_OBJS) $(MAP)
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=$(MAP) -Wl,--no-undefined \
	    $(CFLAGS) $(LDFLAGS) -o $@ $(LIB_OBJS) $(LIB_LDLIBS)

$(BUILD)/$(SONAME): $(SHARED)
	ln -sf $(notdir $(SHARED)) $@

$(BUILD)/libsfr.so: $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $@

$(STATIC): $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJS)

# Test suites: every tests/test_*.c defines one or more `Suite *name_suite(void)`;
# the runner's list of suites is generated from them.
$(BUILD)/tests/suites.inc: $(TEST_SRCS)
	@mkdir -p $(dir $@)
	sed -n 's/^Suite \*\([a-z0-9_]*_suite\)(void)$$/SFR_SUITE(\1)/p' $(TEST_SRCS) > $@

$(BUILD)/tests/%.o: tests/%.c $(BUILD)/tests/suites.inc | $(ONNX_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(TEST_RUNNER): $(TEST_OBJS) $(STATIC)
	$(CC) $(CFLAGS) -o $@ $(TEST_OBJS) $(STATIC) $(CHECK_LIBS) $(LIB_LDLIBS) -lpthread

# Example programs, linked against the shared library in build/ like a user's.
EXAMPLE_CFLAGS := -std=c11 -D_GNU_SOURCE -Iinclude $(WARN)
EXAMPLE_LDLIBS := -L$(BUILD) -lsfr -Wl,-rpath,'$$ORIGIN/..' -lz -lm
TRAIN_FMNIST := $(BUILD)/examples/train_fmnist
EXTERNAL_TAPS := $(BUILD)/examples/external_taps
MINIMAL := $(BUILD)/examples/minimal
TRAIN_CPP := $(BUILD)/examples/train_cpp
TRAIN_DDP := $(BUILD)/examples/train_ddp
EXAMPLES := $(TRAIN_FMNIST) $(EXTERNAL_TAPS) $(MINIMAL) $(TRAIN_CPP) $(TRAIN_DDP)
MPICC ?= mpicc

$(TRAIN_FMNIST): examples/train_fmnist.c examples/fmnist_data.c examples/progress.c \
                 examples/fmnist_data.h examples/progress.h $(HEADERS) | $(BUILD)/libsfr.so
	@mkdir -p $(dir $@)
	$(CC) $(EXAMPLE_CFLAGS) $(CFLAGS) -o $@ $(filter %.c,$^) $(EXAMPLE_LDLIBS)

$(EXTERNAL_TAPS) $(MINIMAL): $(BUILD)/examples/%: examples/%.c $(HEADERS) | $(BUILD)/libsfr.so
	@mkdir -p $(dir $@)
	$(CC) $(EXAMPLE_CFLAGS) $(CFLAGS) -o $@ $< $(EXAMPLE_LDLIBS)

$(TRAIN_CPP): examples/cpp/train.cpp $(HEADERS) $(CXX_HEADERS) | $(BUILD)/libsfr.so
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 -Iinclude -Wall -Wextra -Werror $(CXXFLAGS) -o $@ $< \
	    -L$(BUILD) -lsfr -Wl,-rpath,'$$ORIGIN/..'

$(TRAIN_DDP): examples/mpi/train_ddp.c examples/fmnist_data.c examples/fmnist_data.h $(HEADERS) \
              | $(BUILD)/libsfr.so
	@mkdir -p $(dir $@)
	$(MPICC) $(EXAMPLE_CFLAGS) $(CFLAGS) -o $@ $(filter %.c,$^) $(EXAMPLE_LDLIBS)

examples: all $(EXAMPLES)

demo: deps
	$(MAKE) all $(TRAIN_FMNIST)
	$(TRAIN_FMNIST) --epochs 1

plot:
	@test -n '$(CSV)' || { echo 'usage: make plot CSV=run.csv [PNG=run.png]'; exit 2; }
	gnuplot -e "csv='$(CSV)'; out='$(or $(PNG),$(basename $(CSV)).png)'" examples/plot_metrics.gp

# The Check run comes last so that its summary closes the output.
check: deps-test
	$(MAKE) all $(TEST_RUNNER) $(EXAMPLES) $(BENCHES)
	$(MAKE) abi-check
	$(MAKE) fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS)
	cd $(BUILD)/tests && SFR_MAKE='$(MAKE)' ./run_tests

# The API reference: docs/Doxyfile with the output directory overridable
# (the docs test renders into a temporary one). Any Doxygen warning fails.
DOCS_DIR ?= docs/api

docs:
	$(call install_packages,docs,doxygen)
	rm -rf '$(DOCS_DIR)/html'
	{ cat docs/Doxyfile; echo 'OUTPUT_DIRECTORY = $(DOCS_DIR)'; } | doxygen -
	@echo 'API reference: $(DOCS_DIR)/html/index.html'

# The ABI against the committed baseline: added functions pass, a removed or
# changed one fails with abidiff's report. Only types defined in include/sfr/
# count (the insides of the opaque handles are not ABI). The baseline is
# regenerated with `make abi-baseline` at release time only (docs/hardening.md);
# the build directory is stripped from it so that it does not depend on the machine.
ABI_BASELINE := abi/libsfr.abi
abi-check: $(SHARED)
	abidiff --no-added-syms --headers-dir1 include/sfr --headers-dir2 include/sfr \
	    $(ABI_BASELINE) $(SHARED)

abi-baseline: $(SHARED)
	@mkdir -p $(dir $(ABI_BASELINE))
	abidw --headers-dir include/sfr --no-corpus-path $(SHARED) | \
	    sed "s| comp-dir-path='[^']*'||" > $(ABI_BASELINE)

# The same suites, built in their own directories so that build/ is left alone.
# ASan: verify_asan_link_order=0 lets the symbol check run a program that is
# not instrumented against the instrumented libsfr.so.
ASAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=all
ASAN_ENV := ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=1:abort_on_error=1 \
            LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
            SFR_LINK_FLAGS='-fsanitize=address,undefined' \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
check-asan: deps-test
	$(MAKE) BUILD=build-asan CFLAGS='$(ASAN_CFLAGS)' examples build-asan/tests/run_tests
	cd build-asan/tests && $(ASAN_ENV) SFR_MAKE='$(MAKE)' ./run_tests

# Check's forked children run under memcheck too (a fork needs no
# --trace-children); a child with an error exits 99, which fails its test, and
# the runner's own exit status fails the target. Timeouts are stretched for
# valgrind's slowdown.
VALGRIND := valgrind --quiet --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite --show-leak-kinds=definite \
            --suppressions=$(CURDIR)/tests/valgrind.supp
check-valgrind: deps-test
	$(MAKE) BUILD=build-valgrind CFLAGS='-O1 -g' examples build-valgrind/tests/run_tests
	cd build-valgrind/tests && CK_TIMEOUT_MULTIPLIER=40 SFR_MAKE='$(MAKE)' $(VALGRIND) ./run_tests

# Fuzz targets: each tests/fuzz/fuzz_X.c, under libFuzzer, ASan and UBSan, linked
# with the library compiled by clang for them. Without -fopenmp there (clang's
# OpenMP would want libomp): the pragmas are ignored and the omp_* calls link to
# libgomp, which oneDNN runs on anyway. `make fuzz` runs each FUZZ_SECONDS.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
CHECK_FUZZ_SECONDS ?= 5
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude -Ilib -Wno-unknown-pragmas \
               -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_TARGETS := checkpoint net_load reg net_build state onnx
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_DIR)/%.o) $(FUZZ_DIR)/gen/onnx.pb-c.o
.SECONDARY: $(FUZZ_LIB_OBJS)

fuzz: $(FUZZ_BINS)
	bash tests/fuzz_run.sh '$(CURDIR)' '$(FUZZ_DIR)' $(FUZZ_SECONDS) $(FUZZ_TARGETS)

$(FUZZ_DIR)/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -DSFR_BUILDING_LIBRARY -MMD -MP \
	    -c $< -o $@

$(FUZZ_DIR)/gen/onnx.pb-c.o: $(ONNX_GEN)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -w -fsanitize=fuzzer-no-link -c $< -o $@

$(ONNX_SRCS:%.c=$(FUZZ_DIR)/%.o): FUZZ_CFLAGS += -I$(BUILD)/gen
$(ONNX_SRCS:%.c=$(FUZZ_DIR)/%.o): | $(ONNX_GEN)

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_input.h $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DSFR_SOURCE_DIR='"$(CURDIR)"' -fsanitize=fuzzer -o $@ $< \
	    $(FUZZ_LIB_OBJS) -ldnnl -lprotobuf-c \
	    -lgomp -lm

# The benchmarks link the shared library like any host program would:
# bench_sfr times the SFR objective alone, bench_train whole training steps
# of the reference networks (it measures the FP32 peak with its own loop).
BENCH_SFR := $(BUILD)/bench/bench_sfr
BENCH_TRAIN := $(BUILD)/bench/bench_train
BENCH_PARTIAL := $(BUILD)/bench/bench_partial
# bench_bf16_chain times oneDNN's kernels alone (what bf16 activations between
# layers could give, docs/performance.md), so it links oneDNN, not libsfr.
BENCH_CHAIN := $(BUILD)/bench/bench_bf16_chain
# make check builds them too (without running them), so that they keep up with the API.
BENCHES := $(BENCH_SFR) $(BENCH_TRAIN) $(BENCH_PARTIAL) $(BENCH_CHAIN)
BENCH_CFLAGS := -std=c11 -D_GNU_SOURCE -Iinclude $(WARN)
BENCH_LDLIBS := -L$(BUILD) -lsfr -lm -Wl,-rpath,'$$ORIGIN/..'

$(BENCH_SFR): bench/bench_sfr.c bench/bench_util.h $(SHARED) $(LINKS) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) $(CFLAGS) -o $@ $< $(BENCH_LDLIBS)

$(BENCH_TRAIN): bench/bench_train.c bench/bench_util.h tests/reference_nets.c tests/reference_nets.h $(SHARED) \
                $(LINKS) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -fopenmp $(CFLAGS) -o $@ $(filter %.c,$^) $(BENCH_LDLIBS)

$(BENCH_PARTIAL): bench/bench_partial.c bench/bench_util.h tests/reference_nets.c \
                  tests/reference_nets.h $(SHARED) $(LINKS) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -fopenmp $(CFLAGS) -o $@ $(filter %.c,$^) $(BENCH_LDLIBS)

$(BENCH_CHAIN): bench/bench_bf16_chain.c bench/bench_util.h lib/net/bf16_rule.h
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -Ilib $(CFLAGS) -o $@ $< -ldnnl

bench: all $(BENCHES)
	$(BENCH_SFR)
	$(BENCH_TRAIN)
	$(BENCH_PARTIAL)
	$(BENCH_CHAIN)

# $(call install_packages,TARGET,PACKAGES): installs those of PACKAGES that are
# missing when run as root, or prints the command that would.
install_packages = \
	@missing=""; \
	for p in $(2); do \
	    dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | grep -q 'install ok installed' \
	        || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	    echo "make $(1): installing$$missing"; \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	else \
	    echo "make $(1): missing packages; run: sudo apt-get install -y$$missing"; exit 1; \
	fi

deps:
	$(call install_packages,deps,$(DEB_PACKAGES_BUILD))

deps-test:
	$(call install_packages,deps-test,$(DEB_PACKAGES))

# sfr.pc and the CMake package name their directories relative to the prefix
# where they lie under it, so that a tree moved as a whole still works:
# `pkg-config --define-variable=prefix=NEW`, and a CMake package that finds
# the prefix from its own place. A directory outside the prefix stays absolute.
# $(call below,DIR,BASE,VAR): DIR as ${VAR}/... when it lies under BASE, else DIR.
below = $(if $(filter $(2),$(1)),$${$(3)},$(patsubst $(2)/%,$${$(3)}/%,$(1)))
empty :=
space := $(empty) $(empty)
CMAKEDIR := $(LIBDIR)/cmake/sfr
# The CMake package lies in LIBDIR/cmake/sfr: from there, ../ up to PREFIX
# (only when LIBDIR lies under PREFIX; otherwise its paths stay absolute).
libdir_in_prefix := $(patsubst $(PREFIX)/%,%,$(filter $(PREFIX)/%,$(LIBDIR)))
cmake_path = $(if $(libdir_in_prefix),$(call below,$(1),$(PREFIX),_sfr_prefix),$(1))
FILL_TEMPLATE := sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@VERSION_MAJOR@|$(VERSION_MAJOR)|g' \
    -e 's|@PREFIX@|$(PREFIX)|' -e 's|@EXEC_PREFIX@|$(call below,$(EXEC_PREFIX),$(PREFIX),prefix)|' \
    -e 's|@LIBDIR@|$(call below,$(LIBDIR),$(EXEC_PREFIX),exec_prefix)|' \
    -e 's|@INCLUDEDIR@|$(call below,$(INCLUDEDIR),$(PREFIX),prefix)|' \
    -e 's|@CMAKE_UP_TO_PREFIX@|$(subst $(space),/,$(foreach d,$(subst /, ,$(libdir_in_prefix)) cmake sfr,..))|' \
    -e 's|@CMAKE_LIBDIR@|$(call cmake_path,$(LIBDIR))|' \
    -e 's|@CMAKE_INCLUDEDIR@|$(call cmake_path,$(INCLUDEDIR))|' \
    -e "s|@POINTER_SIZE@|$$($(CC) -dM -E -x c /dev/null | sed -n 's/^\#define __SIZEOF_POINTER__ //p')|"
CMAKE_FILES := sfrConfig.cmake sfrConfigVersion.cmake

install: all install-python
	install -d '$(DESTDIR)$(LIBDIR)' '$(DESTDIR)$(INCLUDEDIR)/sfr' '$(DESTDIR)$(PKGCONFIGDIR)' \
	    '$(DESTDIR)$(CMAKEDIR)'
	install -m 644 $(HEADERS) $(CXX_HEADERS) '$(DESTDIR)$(INCLUDEDIR)/sfr/'
	install -m 755 $(SHARED) '$(DESTDIR)$(LIBDIR)/'
	ln -sf $(notdir $(SHARED)) '$(DESTDIR)$(LIBDIR)/$(SONAME)'
	ln -sf $(SONAME) '$(DESTDIR)$(LIBDIR)/libsfr.so'
	install -m 644 $(STATIC) '$(DESTDIR)$(LIBDIR)/'
	$(FILL_TEMPLATE) sfr.pc.in > '$(DESTDIR)$(PKGCONFIGDIR)/sfr.pc'
	$(foreach f,$(CMAKE_FILES),$(FILL_TEMPLATE) cmake/$(f).in > '$(DESTDIR)$(CMAKEDIR)/$(f)' &&) true

# The package records the installed library's path (sfr/_install.py), so
# that it finds it with no environment variable.
install-python:
	@if [ -z '$(PYTHONDIR)' ]; then echo 'make install: no $(PYTHON): the Python package is not installed'; \
	else \
	    install -d '$(DESTDIR)$(PYTHONDIR)/sfr' && \
	    install -m 644 $(PY_SRCS) '$(DESTDIR)$(PYTHONDIR)/sfr/' && \
	    printf '# Written by make install: the library this package uses.\nLIBRARY = "%s"\n' \
	        '$(LIBDIR)/$(SONAME)' > '$(DESTDIR)$(PYTHONDIR)/sfr/_install.py' && \
	    echo 'Python package: $(DESTDIR)$(PYTHONDIR)/sfr'; \
	fi

uninstall:
	rm -f $(addprefix '$(DESTDIR)$(INCLUDEDIR)/sfr/',$(notdir $(HEADERS) $(CXX_HEADERS)))
	-rmdir '$(DESTDIR)$(INCLUDEDIR)/sfr' 2>/dev/null
	rm -f '$(DESTDIR)$(LIBDIR)/$(notdir $(SHARED))' '$(DESTDIR)$(LIBDIR)/$(SONAME)' \
	      '$(DESTDIR)$(LIBDIR)/libsfr.so' '$(DESTDIR)$(LIBDIR)/libsfr.a' \
	      '$(DESTDIR)$(PKGCONFIGDIR)/sfr.pc' $(addprefix '$(DESTDIR)$(CMAKEDIR)/',$(CMAKE_FILES))
	-rmdir '$(DESTDIR)$(CMAKEDIR)' '$(DESTDIR)$(LIBDIR)/cmake' 2>/dev/null
	if [ -n '$(PYTHONDIR)' ]; then \
	    rm -f $(addprefix '$(DESTDIR)$(PYTHONDIR)/sfr/',$(notdir $(PY_SRCS)) _install.py); \
	    rm -rf '$(DESTDIR)$(PYTHONDIR)/sfr/__pycache__'; \
	    rmdir '$(DESTDIR)$(PYTHONDIR)/sfr' 2>/dev/null || true; \
	fi

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(FUZZ_LIB_OBJS:.o=.d)
