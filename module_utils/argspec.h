/* Layer: runtime. Included by runtime.c alone (pt_module_init validates with
 * it), and by its tests and fuzz harness.
 *
 * Option validation with AnsibleModule's rules and messages (ansible-core 2.14
 * and 2.19, which differ in a few messages and in explicit nulls; see
 * pt_argspec_validate_as).
 *
 * An argument spec is a JSON object generated at build time from the module's
 * DOCUMENTATION (modules/NAME.yml) by tools/argspec_gen: option name → {type,
 * default, choices, required, aliases, elements, no_log, suboptions}. Keeping it
 * as data means the docs and the validation cannot disagree. */
#ifndef PT_ARGSPEC_H
#define PT_ARGSPEC_H

#include <jansson.h>

/* Value AnsibleModule prints in place of a no_log option's value. */
#define PT_NO_LOG_MASK "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"

/* Validate and coerce the user's options against spec.
 *
 * module_name names the module in "Unsupported parameters for (NAME) module".
 * input: the user's options (borrowed; keys starting with "_ansible_" must
 * already be removed). On success returns 0 and sets *params to a new object
 * holding every option of the spec (defaults filled in, null where unset, alias
 * keys kept as given) — the caller owns it. On failure returns -EINVAL and sets
 * *msg to AnsibleModule's message (caller frees); *params is NULL.
 * -ENOMEM when memory runs out (then *msg may be NULL).
 * warnings: a JSON array (borrowed) that gets AnsibleModule's warnings as strings
 * ("Both option name and its alias id are set."), or NULL to drop them. */
int pt_argspec_validate(const json_t *spec, const char *module_name, const json_t *input,
                        json_t **params, char **msg, json_t *warnings);

/* Whose rules pt_argspec_validate_as follows. What 2.19 does differently from
 * 2.14 (measured: tests/fixtures/argspec/ansible-2.1[49]-vectors.json):
 *   - "is of type str" where 2.14 says "is of type <class 'str'>";
 *   - a bad boolean: one space, not two, before "Valid booleans include";
 *   - int: '"'seven'" cannot be converted to an int' (the value's repr) where
 *     2.14 names the type; a float or numeric text with no fractional part
 *     ("7.0", 7.0, "7e0") is accepted as that int;
 *   - an explicit null for an option that is required or has a default is
 *     converted like any value: "" for str and path, an error for int, float,
 *     bool, list and dict (2.14 keeps the null). */
enum pt_ansible_rules { PT_ANSIBLE_2_14, PT_ANSIBLE_2_19 };

/* The rules of the controller whose version is version (_ansible_version,
 * "2.19.11"): 2.14's below 2.19, else (newer, or NULL/unreadable: the module
 * cannot know) the newest. */
enum pt_ansible_rules pt_ansible_rules_for(const char *version);

/* pt_argspec_validate with the given controller's rules (pt_argspec_validate
 * follows 2.14's). Same contract otherwise. Not reentrant: one validation at a
 * time per process. */
int pt_argspec_validate_as(enum pt_ansible_rules rules, const json_t *spec, const char *module_name,
                           const json_t *input, json_t **params, char **msg, json_t *warnings);

/* A deep copy of params with every no_log option's value replaced by
 * PT_NO_LOG_MASK (suboptions included): what invocation.module_args shows.
 * New reference; NULL on allocation failure. */
json_t *pt_argspec_mask_no_log(const json_t *spec, const json_t *params);

/* Parse a spec from its JSON text (as embedded by the generator).
 * New reference, or NULL when the text is not a JSON object. */
json_t *pt_argspec_load(const char *spec_json);

/* Ansible's boolean words (yes/no/true/false/on/off/y/n/t/f/1/0, any case).
 * Returns 1 (true), 0 (false) or -1 when s is not one of them. */
int pt_parse_bool(const char *s);

#endif
