# rollcall — the two commands the README promises are `make demo` and `make test`.
SHELL := /bin/bash
BIN := target/release/rollcall

# OpenMPI refuses root without these; oversubscribed ranks must yield instead of busy-polling;
# one BLAS thread per rank so ranks don't fight over cores.
export OMPI_ALLOW_RUN_AS_ROOT := 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM := 1
export OMPI_MCA_mpi_yield_when_idle := 1
export OPENBLAS_NUM_THREADS := 1

.PHONY: setup build demo test slurm-test image image-test bundle bundle-test bench bench-accuracy bench-balance bench-gray bench-semester scaling-tables clean

setup:
	@scripts/setup.sh

build:
	cargo build --release --locked

## The main job on the built-in ground-truth lecture, on two MPI ranks.
demo: setup
	$(BIN) enroll data/lecture/photos -o out/demo/roster.h5 --force
	mpirun --oversubscribe -n 2 $(BIN) attend data/lecture/lecture.avi --roster out/demo/roster.h5 -o out/demo --force \
		--schedule dynamic --title "Demo lecture" --date 2026-10-05

## Every test: unit tests and real mpirun runs on real video (see tests/), with the Slurm flow
## running beside them (its jobs spend most of their time waiting on Slurm); its log is printed
## at the end. cargo-nextest, where installed, keeps both cores busy across all test binaries
## (cargo test runs one binary at a time); either way every failing test is reported.
## The test binaries in TIMED compare this machine's measured times with predictions, so they
## run last and alone, once the rest and the Slurm flow are done (beside them, a 2-rank run on
## 2 cores is slowed by whatever else runs, and a prediction is off by that much).
TIMED := simulate node
test: setup
	cargo build --release --locked --all-targets   # tests and benchmarks in one build (benchmarks built, not run, so that they cannot rot)
	@mkdir -p out; tests/slurm/run.sh > out/slurm-test.log 2>&1 & slurm=$$!; \
	timed_filter="$(foreach t,$(TIMED),binary($(t)) |) none()"; \
	if cargo nextest --version >/dev/null 2>&1; then \
	  cargo nextest run --release --locked --no-fail-fast --test-threads 2 -E "not ($$timed_filter)"; \
	else \
	  cargo test --release --locked --no-fail-fast --lib --bins $(foreach t,$(filter-out $(TIMED),$(basename $(notdir $(wildcard tests/*.rs)))),--test $(t)) -- --test-threads 2; \
	fi; tests=$$?; \
	wait $$slurm; slurm_status=$$?; cat out/slurm-test.log; \
	if cargo nextest --version >/dev/null 2>&1; then \
	  cargo nextest run --release --locked --no-fail-fast --test-threads 1 -E "$$timed_filter"; \
	else \
	  cargo test --release --locked --no-fail-fast $(foreach t,$(TIMED),--test $(t)) -- --test-threads 1; \
	fi; timed=$$?; \
	exit $$(( tests != 0 || slurm_status != 0 || timed != 0 ))

## The semester flow of slurm/ on a real single-node Slurm (stood up and torn down here).
slurm-test: setup
	tests/slurm/run.sh

## For clusters (README: On a Slurm cluster). An OCI image without any container registry: a
## debootstrapped Debian 12, the release build and models, imported with podman and saved as
## out/rollcall-oci.tar (scripts/image.sh). Its test runs the saved image under podman on the
## lecture, 2 ranks. Not part of make test: the first build downloads ~300 MB.
image: setup
	scripts/image.sh

image-test: image
	tests/container/image.sh

## A relocatable tarball (out/rollcall-VERSION-linux-x86_64.tar.gz: binary, libraries but glibc's
## and MPI's, models, a wrapper) built in a debootstrapped Debian 11, for glibc >= 2.31 and the
## site's OpenMPI (scripts/bundle.sh). Its test unpacks it in a Debian 13 chroot that has only
## its own OpenMPI 5 and takes the lecture's attendance on 2 ranks. The first build takes
## ~20 min (debootstrap, then a whole release build in the chroot).
bundle: setup
	scripts/bundle.sh

bundle-test: bundle
	tests/container/bundle.sh

## rollcall against Python face_recognition (two dlib builds) on one core on the lecture, the short hall
## and two minutes of the long hall (composed first if bench-accuracy has not), scaling on 1-8 ranks,
## criterion micro-benchmarks (benches/speed.sh). The first run builds dlib from source: 10-15 min.
bench: setup
	benches/speed.sh

## Attendance against the truth of a long 1080p lecture hall, at defaults and with --upsample 2
## (benches/accuracy.sh): students right, arrival/departure error, detection recall, identity
## precision. Composes the hall the first time (~30 min); each run then takes 20-60 min.
## A semester of 1,000 lectures (copies of one real result under other names and dates) with an
## override in each, aggregated by `rollcall semester`: under a minute and 1 GB (benches/semester.sh).
bench-semester: setup
	benches/semester.sh

bench-accuracy: setup
	benches/accuracy.sh

## Load balance: block vs dynamic with one of two ranks slowed 2x (benches/balance.rs).
bench-balance: setup
	cargo bench --locked --bench balance

## Grayscale of an 8K image on 1 and 2 ranks, against this machine's memory bandwidth.
bench-gray: setup
	cargo bench --locked --bench gray

## The simulated tables of docs/SCALING.md, from two measured runs on this machine.
scaling-tables: setup
	benches/scaling-tables.sh

clean:
	rm -rf out target
