/* Layer: base (jansson only). Included by the runtime (the result it prints),
 * iommu_facts_run.c (--json), and tests and fuzz harnesses.
 *
 * JSON text of a jansson value, byte for byte what json_dumps gives, at a
 * fraction of its cost.
 *
 * jansson's dumper hands every token to a callback, decodes every string
 * character by character and tracks each container in a hash table to catch
 * cycles: for iommu_facts' 256-device facts that was a quarter of the run.
 * This one writes into one growing buffer and copies plain runs of a string
 * at once. */
#ifndef PT_JSON_DUMP_H
#define PT_JSON_DUMP_H

#include <stddef.h>

#include <jansson.h>

/* As json_dumps(json, flags): the same text, or NULL where json_dumps gives
 * NULL (out of memory, a string that is not UTF-8, a top level that is not an
 * array or object). flags JSON_INDENT(n) and JSON_COMPACT are written here;
 * any other flag, a real number, or nesting deeper than 1000 levels (a
 * cycle, perhaps) is left to json_dumps itself. Caller frees with free(). */
char *pt_json_dumps(const json_t *json, size_t flags);

#endif
