# --- use: the tarball, its installation, its sanity, make run -----------------
.PHONY: dist install sanity run

# The tarball a user installs with `ansible-galaxy collection install` on a
# controller without a compiler: the built modules and their docs, the role, the
# playbooks, the sources (build_ignore in galaxy.yml keeps build outputs and test
# scratch out; of tests/ only tests/sanity, ansible-test's ignore files, ships).
dist: all
	@rm -f $(TARBALL)
	$(call msg,BUILD,$(TARBALL))
	$(Q)ansible-galaxy collection build --force . $(QUIET_OUT)

install: dist
	$(call msg,INSTALL,$(TARBALL))
	$(Q)ansible-galaxy collection install --force $(TARBALL) $(QUIET_OUT)

# ansible-test sanity on the tarball's tree, every test that needs no download
# (tests/tools/sanity.sh says which it leaves out and why).
sanity: dist
	tests/tools/sanity.sh $(TARBALL)

run: deps
	$(Q)$(MAKE) install tools
	$(Q)tests/run-example.sh
