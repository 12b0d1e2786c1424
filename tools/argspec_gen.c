/* argspec_gen: turn a module's documentation (modules/NAME.yml, the ansible-doc
 * sidecar) into the argument spec the runtime validates with.
 *
 *     argspec_gen modules/NAME.yml NAME > build/gen/NAME_argspec.h
 *
 * Reads DOCUMENTATION.options and keeps, for each option, what AnsibleModule's
 * argument_spec holds: type, default, choices, required, aliases, elements,
 * no_log and suboptions. Scalars are typed as YAML 1.1 does (what Ansible's
 * loader sees): plain true/yes/on are booleans, plain digits integers, quoted
 * text strings. The spec is emitted as JSON text in a C string constant. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <yaml.h>

static const char *progname = "argspec_gen";
static const char *source;

static void die(const yaml_node_t *at, const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: %s", progname, source);
	if (at)
		fprintf(stderr, ":%lu", (unsigned long)at->start_mark.line + 1);
	fprintf(stderr, ": ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		if (k && k->type == YAML_SCALAR_NODE &&
		    strcmp((char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

static int is_int(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (!*s)
		return 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (s += 2; *s; s++)
			if (!isxdigit((unsigned char)*s))
				return 0;
		return 1;
	}
	for (; *s; s++)
		if (!isdigit((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

static int is_float(const char *s)
{
	char *end;
	if (!*s || !(isdigit((unsigned char)*s) || *s == '-' || *s == '+' || *s == '.'))
		return 0;
	errno = 0;
	strtod(s, &end);
	return *end == '\0' && errno == 0 && strpbrk(s, ".eE") != NULL;
}

/* A scalar as PyYAML's SafeLoader would type it. New reference. */
static json_t *scalar_to_json(const yaml_node_t *node)
{
	const char *v = (const char *)node->data.scalar.value;
	if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_string(v);
	static const char *const trues[] = {"y", "yes", "true", "on"};
	static const char *const falses[] = {"n", "no", "false", "off"};
	/* PyYAML only takes yes/no/true/false/on/off (not y/n) as booleans. */
	for (size_t i = 1; i < 4; i++) {
		if (strcasecmp(v, trues[i]) == 0)
			return json_true();
		if (strcasecmp(v, falses[i]) == 0)
			return json_false();
	}
	if (!*v || strcmp(v, "~") == 0 || strcasecmp(v, "null") == 0)
		return json_null();
	if (is_int(v))
		return json_integer(strtoll(v, NULL, 0));
	if (is_float(v))
		return json_real(strtod(v, NULL));
	return json_string(v);
}

static json_t *node_to_json(yaml_document_t *doc, yaml_node_t *node)
{
	switch (node->type) {
	case YAML_SCALAR_NODE:
		return scalar_to_json(node);
	case YAML_SEQUENCE_NODE: {
		json_t *a = json_array();
		for (yaml_node_item_t *i = node->data.sequence.items.start;
		     i < node->data.sequence.items.top; i++)
			json_array_append_new(a,
			                      node_to_json(doc, yaml_document_get_node(doc, *i)));
		return a;
	}
	case YAML_MAPPING_NODE: {
		json_t *o = json_object();
		for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
		     p < node->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(doc, p->key);
			if (k->type != YAML_SCALAR_NODE)
				die(k, "%s", "mapping keys must be scalars");
			json_object_set_new(
			        o, (char *)k->data.scalar.value,
			        node_to_json(doc, yaml_document_get_node(doc, p->value)));
		}
		return o;
	}
	default:
		return json_null();
	}
}

static const char *const known_types[] = {"str",  "bool", "int", "float", "list",
                                          "dict", "path", "raw", NULL};

static json_t *options_to_spec(yaml_document_t *doc, yaml_node_t *options);

static json_t *option_to_spec(yaml_document_t *doc, const char *name, yaml_node_t *opt)
{
	if (opt->type != YAML_MAPPING_NODE)
		die(opt, "option %s must be a mapping", name);
	json_t *spec = json_object();
	yaml_node_t *type = map_get(doc, opt, "type");
	const char *t =
	        type && type->type == YAML_SCALAR_NODE ? (char *)type->data.scalar.value : "str";
	int ok = 0;
	for (const char *const *k = known_types; *k; k++)
		ok |= strcmp(*k, t) == 0;
	if (!ok)
		die(type, "unknown option type %s", t);
	json_object_set_new(spec, "type", json_string(t));

	static const char *const copied[] = {"default",  "choices", "required", "aliases",
	                                     "elements", "no_log",  NULL};
	for (const char *const *k = copied; *k; k++) {
		yaml_node_t *v = map_get(doc, opt, *k);
		if (v)
			json_object_set_new(spec, *k, node_to_json(doc, v));
	}
	yaml_node_t *sub = map_get(doc, opt, "suboptions");
	if (sub)
		json_object_set_new(spec, "options", options_to_spec(doc, sub));
	return spec;
}

static json_t *options_to_spec(yaml_document_t *doc, yaml_node_t *options)
{
	if (options->type != YAML_MAPPING_NODE)
		die(options, "%s", "options must be a mapping");
	json_t *spec = json_object();
	for (yaml_node_pair_t *p = options->data.mapping.pairs.start;
	     p < options->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		const char *name = (const char *)k->data.scalar.value;
		json_object_set_new(
		        spec, name,
		        option_to_spec(doc, name, yaml_document_get_node(doc, p->value)));
	}
	return spec;
}

static void emit_c_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\%03o", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s modules/NAME.yml NAME\n", progname);
		return 2;
	}
	source = argv[1];
	FILE *f = fopen(source, "rb");
	if (!f)
		die(NULL, "cannot open: %s", strerror(errno));
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc))
		die(NULL, "YAML error: %s", parser.problem ? parser.problem : "unknown");
	yaml_node_t *rootnode = yaml_document_get_root_node(&doc);
	yaml_node_t *documentation = map_get(&doc, rootnode, "DOCUMENTATION");
	if (!documentation)
		die(NULL, "%s", "no DOCUMENTATION mapping");
	yaml_node_t *options = map_get(&doc, documentation, "options");
	json_t *spec = options ? options_to_spec(&doc, options) : json_object();
	char *text = json_dumps(spec, JSON_COMPACT | JSON_PRESERVE_ORDER);

	printf("/* Generated by tools/argspec_gen from %s: do not edit. */\n", source);
	printf("static const char %s_argspec_json[] = ", argv[2]);
	emit_c_string(text);
	printf(";\n");

	free(text);
	json_decref(spec);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return 0;
}
