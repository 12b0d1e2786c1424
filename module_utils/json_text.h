/* Layer: base (no Ansible types, no host I/O). Anyone may include it.
 *
 * JSON strings of text read from the host, which need not be UTF-8 (file
 * contents, command output, paths, mount points, interface names): jansson's
 * json_string() returns NULL for such text and the value would vanish, so
 * every reader of host text builds its strings here. Also the small
 * containers of such strings the host readers build: an object of string
 * members, and arrays of strings used as sorted sets.
 *
 * Its own file so that the host model (iommu, modprobe_conf, host_net,
 * host_block, vfio_safety) need not include the Ansible runtime for it. */
#ifndef PT_JSON_TEXT_H
#define PT_JSON_TEXT_H

#include <stdbool.h>

#include <jansson.h>

/* A JSON string for s: bytes that are not valid UTF-8 (by jansson's rules)
 * become U+FFFD instead of making json_string() return NULL. New reference;
 * NULL only when s is NULL or memory runs out. pt_module_fail, pt_warn and
 * pt_diff_add use it. */
json_t *pt_json_text(const char *s);

/* An object of string members, as json_pack("{s:s, ...}") gives it without
 * linking jansson's pack code (about 10 KB of every module binary): key and
 * value pairs, a (const char *)NULL after the last; values through
 * pt_json_text. New reference; NULL when out of memory or a value is NULL. */
json_t *pt_json_text_object(const char *key, ...);

/* True when the array arr (borrowed) holds the string s. */
bool pt_json_strings_has(const json_t *arr, const char *s);

/* Append pt_json_text(s) to arr unless arr holds s already (out of memory
 * drops it). */
void pt_json_strings_add_unique(json_t *arr, const char *s);

/* Sort an array of strings in place (strcmp order), so that what came in
 * directory or hash order reads the same on every host; with drop_repeats,
 * equal strings are kept once. Left as it was when out of memory. */
void pt_json_strings_sort(json_t *arr, bool drop_repeats);

#endif
