# The modules that ship: each module's argument spec generated from its
# documentation, the module linked against the plain library (mk/lib.mk) and
# stripped into plugins/modules/, its documentation copied beside it.

$(GENERATOR): tools/argspec_gen.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CSTD) $(WARN) $(CFLAGS) -o $@ $< $(YAML_A) $(JANSSON_A)

# Each module's argument spec comes from its documentation (one source of truth).
$(GEN)/%_argspec.h: modules/%.yml $(GENERATOR)
	@mkdir -p $(dir $@)
	$(call msg,GEN,$@)
	$(Q)$(GENERATOR) $< $* > $@.tmp && mv $@.tmp $@

# Unwind tables go too (about 8 KB of jansson's): these C programs never
# unwind (no exceptions, no thread cancellation, no backtraces).
plugins/modules/%: $(OBJ)/modules/%.o $(LIBPT)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(LIBPT) $(JANSSON_A) $(PCI_LIBS)
	$(Q)strip --strip-all --remove-section=.comment --remove-section=.eh_frame \
	  --remove-section=.eh_frame_hdr $@

plugins/modules/%.yml: modules/%.yml
	$(call msg,CP,$@)
	$(Q)cp $< $@
