# --- benchmarks (bench/README.md) ---------------------------------------------
.PHONY: bench bench-ssh

bench: deps
	$(MAKE) all tools
	bench/run.sh

# Not part of make test: a benchmark, several minutes (bench/README.md).
bench-ssh: deps
	$(MAKE) install tools
	bench/ssh.sh
