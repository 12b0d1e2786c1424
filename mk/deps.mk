# make deps: the Debian packages the build and the tests need, installed when
# missing. The parts that need more add to DEPS_PKGS (mk/lib.mk: clang and its
# runtimes; mk/lint.mk: the checkers); `make deps DEPS_PKGS=...` installs a list
# of its own (make test-matrix, make deps-e2e).
#
# While it installs them, a policy-rc.d (unless the machine has one) keeps their
# services from starting: openssh-server would otherwise start a system sshd
# listening on port 22, and the tests start their own on 127.0.0.1 only.
DEPS_PKGS := gcc make pkg-config libjansson-dev libyaml-dev libpci-dev libcmocka-dev \
             pciutils valgrind ansible-core python3 hyperfine ansible-lint yamllint
# The SSH transport test and make bench-ssh: their own sshd on 127.0.0.1 (the
# package's service is not used), sudo for become from a non-root user.
DEPS_PKGS += openssh-server openssh-client sudo

.PHONY: deps
deps:
	@missing=""; for p in $(DEPS_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  if [ ! -e /usr/sbin/policy-rc.d ]; then \
	    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d; \
	    trap 'rm -f /usr/sbin/policy-rc.d' EXIT; \
	  fi; \
	  apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; \
	else echo "make deps: all packages present"; fi
