/* Validation that follows ansible-core 2.14's ArgumentSpecValidator: aliases,
 * unsupported options, required, types (with coercion), choices, then
 * suboptions; the first error is the one reported, unsupported options last. */
#include "argspec.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cleanup.h"
#include "strbuf.h"

/* Errors of one validation run: the first message wins, as in AnsibleModule,
 * except that unsupported options are reported only when nothing else failed. */
struct errors {
	char *first;                   /* first error message (owned) */
	struct pt_strbuf unsupported;  /* ", "-joined flattened names */
	json_t *unsupported_names;     /* array of names, sorted at the end */
	const json_t *supported_level; /* spec of the level of the last unsupported */
	json_t *warnings;              /* borrowed; NULL when the caller wants none */
	json_t *top_warnings;          /* the top level's, appended after the rest */
	bool oom;
};

/* The rules of the validation in progress (pt_argspec_validate_as sets them): the
 * coercions below take no context, and the modules validate once per process. */
static enum pt_ansible_rules active_rules = PT_ANSIBLE_2_14;

static void error_add(struct errors *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void error_add(struct errors *e, const char *fmt, ...)
{
	if (e->first)
		return;
	struct pt_strbuf sb = PT_STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	pt_strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	e->first = pt_strbuf_steal(&sb);
	if (!e->first)
		e->oom = true;
}

/* " found in 'a -> b'" style suffixes take the context path. */
static char *context_str(const json_t *ctx)
{
	struct pt_strbuf sb = PT_STRBUF_INIT;
	size_t i;
	json_t *v;
	json_array_foreach (ctx, i, v) {
		if (i)
			pt_strbuf_puts(&sb, " -> ");
		pt_strbuf_puts(&sb, json_string_value(v));
	}
	return pt_strbuf_steal(&sb);
}

static const char *py_type(const json_t *v);

/* The type AnsibleModule names in "argument 'x' is of type T": 2.14 prints
 * type(value), 2.19 its bare name. */
static const char *arg_type(const json_t *v)
{
	static const char *const bare[] = {
	        [JSON_OBJECT] = "dict", [JSON_ARRAY] = "list",   [JSON_STRING] = "str",
	        [JSON_INTEGER] = "int", [JSON_REAL] = "float",   [JSON_TRUE] = "bool",
	        [JSON_FALSE] = "bool",  [JSON_NULL] = "NoneType"};
	if (active_rules == PT_ANSIBLE_2_14)
		return py_type(v);
	return bare[json_typeof(v)];
}

/* Python's type(value) as AnsibleModule prints it. */
static const char *py_type(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return "<class 'str'>";
	case JSON_INTEGER:
		return "<class 'int'>";
	case JSON_REAL:
		return "<class 'float'>";
	case JSON_TRUE:
	case JSON_FALSE:
		return "<class 'bool'>";
	case JSON_ARRAY:
		return "<class 'list'>";
	case JSON_OBJECT:
		return "<class 'dict'>";
	default:
		return "<class 'NoneType'>";
	}
}

/* Python's str() of a float: the shortest text that reads back the same. */
static void py_float_str(double d, char *buf, size_t size)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	if (!strpbrk(buf, ".eEn"))
		strncat(buf, ".0", size - strlen(buf) - 1);
}

/* Python's str() of a scalar JSON value. Caller frees. */
static char *py_str(const json_t *v)
{
	char buf[64];
	switch (json_typeof(v)) {
	case JSON_STRING:
		return strdup(json_string_value(v));
	case JSON_INTEGER:
		snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return strdup(buf);
	case JSON_REAL:
		py_float_str(json_real_value(v), buf, sizeof buf);
		return strdup(buf);
	case JSON_TRUE:
		return strdup("True");
	case JSON_FALSE:
		return strdup("False");
	case JSON_NULL:
		return strdup("None");
	default:
		return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	}
}

int pt_parse_bool(const char *s)
{
	static const char *const yes[] = {"y", "yes", "on", "1", "true", "t"};
	static const char *const no[] = {"n", "no", "off", "0", "false", "f"};
	/* Python strips surrounding whitespace before comparing. */
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	for (size_t i = 0; i < 6; i++) {
		if (strlen(yes[i]) == n && strncasecmp(s, yes[i], n) == 0)
			return 1;
		if (strlen(no[i]) == n && strncasecmp(s, no[i], n) == 0)
			return 0;
	}
	return -1;
}

/* The order ansible-core 2.14 happened to print (it comes from a set). */
#define VALID_BOOLEANS                                                                             \
	"0, 1, 't', 'false', '0', '1', 'y', 'true', 'no', 'off', 'yes', 'n', 'f', 'on'"

/* Coercions: each returns a new reference, or NULL and sets *why (caller frees)
 * to the reason text AnsibleModule gives after "unable to convert to T: ". */

static json_t *to_str(const json_t *v, char **why)
{
	(void)why;
	if (json_is_string(v))
		return json_incref((json_t *)v);
	char *s = py_str(v);
	json_t *r = s ? json_string(s) : NULL;
	free(s);
	return r;
}

static json_t *to_bool(const json_t *v, char **why)
{
	if (json_is_boolean(v))
		return json_incref((json_t *)v);
	if (json_is_string(v) || json_is_number(v)) {
		_cleanup_free_ char *s = py_str(v);
		int b = -1;
		if (json_is_string(v))
			b = pt_parse_bool(s);
		else if (json_number_value(v) == 1.0)
			b = 1;
		else if (json_number_value(v) == 0.0)
			b = 0;
		if (b >= 0)
			return json_boolean(b);
		if (asprintf(why,
		             "The value '%s' is not a valid boolean.%sValid booleans "
		             "include: " VALID_BOOLEANS,
		             s, active_rules == PT_ANSIBLE_2_14 ? "  " : " ") < 0)
			*why = NULL;
		return NULL;
	}
	if (asprintf(why, "%s cannot be converted to a bool", py_type(v)) < 0)
		*why = NULL;
	return NULL;
}

/* Python's int(str): optional blanks and sign, digits with single underscores. */
static bool parse_py_int(const char *s, long long *out)
{
	while (isspace((unsigned char)*s))
		s++;
	char digits[32];
	size_t n = 0;
	if (*s == '+' || *s == '-')
		digits[n++] = *s++;
	if (!isdigit((unsigned char)*s))
		return false;
	for (; *s; s++) {
		if (isdigit((unsigned char)*s)) {
			if (n >= sizeof digits - 1)
				return false;
			digits[n++] = *s;
		} else if (*s == '_' && isdigit((unsigned char)s[1]) &&
		           isdigit((unsigned char)s[-1])) {
			continue;
		} else {
			break;
		}
	}
	while (isspace((unsigned char)*s))
		s++;
	if (*s)
		return false;
	digits[n] = '\0';
	errno = 0;
	*out = strtoll(digits, NULL, 10);
	return errno == 0;
}

/* 2.19 reads an int through decimal.Decimal: numeric text or a float with no
 * fractional part is that int ("7.0", "7e0", 7.0). Decimal's text is a decimal
 * number with optional blanks, sign, fraction and exponent (no hex, unlike
 * strtod; "inf" and "nan" are no int). */
static bool integral_decimal(const json_t *v, long long *out)
{
	double d;
	if (json_is_real(v)) {
		d = json_real_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (strspn(s, " \t\n\r\f\v+-0123456789._eE") != strlen(s) ||
		    !strpbrk(s, "0123456789"))
			return false;
		char *clean = strdup(s), *w = clean;
		if (!clean)
			return false;
		for (const char *r = s; *r; r++) /* Decimal takes _ between digits */
			if (*r != '_')
				*w++ = *r;
		*w = '\0';
		char *end;
		errno = 0;
		d = strtod(clean, &end);
		while (isspace((unsigned char)*end))
			end++;
		bool ok = end != clean && !*end && errno == 0;
		free(clean);
		if (!ok)
			return false;
	} else {
		return false;
	}
	/* No libm for the modules: the range check keeps the cast defined. */
	if (!isfinite(d) || d > 9.2e18 || d < -9.2e18 || (double)(long long)d != d)
		return false;
	*out = (long long)d;
	return true;
}

/* Python's repr() of a scalar: strings quoted as Python quotes them. Caller frees. */
static char *py_repr(const json_t *v)
{
	if (!json_is_string(v))
		return py_str(v);
	const char *s = json_string_value(v);
	char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
	struct pt_strbuf sb = PT_STRBUF_INIT;
	pt_strbuf_putc(&sb, q);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\\' || *p == (unsigned char)q)
			pt_strbuf_printf(&sb, "\\%c", *p);
		else if (*p == '\n')
			pt_strbuf_puts(&sb, "\\n");
		else if (*p == '\r')
			pt_strbuf_puts(&sb, "\\r");
		else if (*p == '\t')
			pt_strbuf_puts(&sb, "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			pt_strbuf_printf(&sb, "\\x%02x", *p);
		else
			pt_strbuf_putc(&sb, (char)*p);
	}
	pt_strbuf_putc(&sb, q);
	return pt_strbuf_steal(&sb);
}

static json_t *to_int(const json_t *v, char **why)
{
	long long n;
	if (json_is_integer(v) || json_is_boolean(v))
		return json_incref((json_t *)v);
	if (json_is_string(v) && parse_py_int(json_string_value(v), &n))
		return json_integer(n);
	if (active_rules == PT_ANSIBLE_2_14) {
		if (asprintf(why, "%s cannot be converted to an int", py_type(v)) < 0)
			*why = NULL;
		return NULL;
	}
	if (integral_decimal(v, &n))
		return json_integer(n);
	_cleanup_free_ char *r = py_repr(v);
	if (!r || asprintf(why, "\"%s\" cannot be converted to an int", r) < 0)
		*why = NULL;
	return NULL;
}

static json_t *to_float(const json_t *v, char **why)
{
	if (json_is_real(v))
		return json_incref((json_t *)v);
	if (json_is_integer(v))
		return json_real((double)json_integer_value(v));
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;
		errno = 0;
		double d = strtod(s, &end);
		while (isspace((unsigned char)*end))
			end++;
		if (end != s && !*end && errno == 0 && isfinite(d))
			return json_real(d);
	}
	if (asprintf(why, "%s cannot be converted to a float", py_type(v)) < 0)
		*why = NULL;
	return NULL;
}

static json_t *to_list(const json_t *v, char **why)
{
	if (json_is_array(v))
		return json_incref((json_t *)v);
	if (json_is_string(v)) {
		json_t *list = json_array();
		const char *s = json_string_value(v);
		for (;;) {
			const char *comma = strchr(s, ',');
			size_t len = comma ? (size_t)(comma - s) : strlen(s);
			json_array_append_new(list, json_stringn(s, len));
			if (!comma)
				break;
			s = comma + 1;
		}
		return list;
	}
	if (json_is_integer(v) || json_is_real(v) || json_is_boolean(v)) {
		_cleanup_free_ char *s = py_str(v);
		json_t *list = s ? json_array() : NULL;
		if (list)
			json_array_append_new(list, json_string(s));
		return list;
	}
	if (asprintf(why, "%s cannot be converted to a list", py_type(v)) < 0)
		*why = NULL;
	return NULL;
}

/* "k=v k2='v 2',k3=v3" as AnsibleModule splits it. */
static json_t *kv_to_dict(const char *s, char **why)
{
	json_t *d = json_object();
	struct pt_strbuf field = PT_STRBUF_INIT;
	char quote = 0;
	bool escape = false;
	size_t index = 0;
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	for (size_t i = 0; i <= n; i++) {
		char c = i < n ? s[i] : '\0';
		bool end = i == n;
		if (!end && escape) {
			pt_strbuf_putc(&field, c);
			escape = false;
		} else if (!end && c == '\\') {
			escape = true;
		} else if (!end && !quote && (c == '\'' || c == '"')) {
			quote = c;
		} else if (!end && quote && c == quote) {
			quote = 0;
		} else if (end || (!quote && (c == ',' || c == ' '))) {
			if (field.len) {
				const char *f = pt_strbuf_str(&field);
				const char *eq = strchr(f, '=');
				if (!eq) {
					if (asprintf(why,
					             "dictionary update sequence element #%zu has "
					             "length 1; 2 is required",
					             index) < 0)
						*why = NULL;
					pt_strbuf_release(&field);
					json_decref(d);
					return NULL;
				}
				_cleanup_free_ char *key = strndup(f, (size_t)(eq - f));
				json_object_set_new(d, key, json_string(eq + 1));
				index++;
			}
			pt_strbuf_release(&field);
		} else {
			pt_strbuf_putc(&field, c);
		}
	}
	pt_strbuf_release(&field);
	return d;
}

static json_t *to_dict(const json_t *v, char **why)
{
	if (json_is_object(v))
		return json_incref((json_t *)v);
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (s[0] == '{') {
			json_t *d = json_loads(s, JSON_DECODE_ANY, NULL);
			if (d)
				return d;
			*why = strdup("unable to evaluate string as dictionary");
			return NULL;
		}
		if (strchr(s, '='))
			return kv_to_dict(s, why);
		*why = strdup("dictionary requested, could not parse JSON or key=value");
		return NULL;
	}
	if (asprintf(why, "%s cannot be converted to a dict", py_type(v)) < 0)
		*why = NULL;
	return NULL;
}

/* os.path.expanduser + expandvars. */
static char *expand_path(const char *p)
{
	struct pt_strbuf sb = PT_STRBUF_INIT;
	if (p[0] == '~' && (p[1] == '/' || p[1] == '\0')) {
		const char *home = getenv("HOME");
		if (!home || !*home) {
			struct passwd *pw = getpwuid(getuid());
			home = pw ? pw->pw_dir : "/";
		}
		pt_strbuf_puts(&sb, home);
		/* "~/" on HOME "/" must not become "//" */
		if (sb.len && sb.data[sb.len - 1] == '/' && p[1] == '/')
			p++;
		p++;
	}
	while (*p) {
		if (*p == '$' && (isalpha((unsigned char)p[1]) || p[1] == '_' || p[1] == '{')) {
			bool brace = p[1] == '{';
			const char *start = p + 1 + brace;
			const char *end = start;
			while (isalnum((unsigned char)*end) || *end == '_')
				end++;
			if (end > start && (!brace || *end == '}')) {
				_cleanup_free_ char *name = strndup(start, (size_t)(end - start));
				const char *val = getenv(name);
				if (val) {
					pt_strbuf_puts(&sb, val);
					p = end + brace;
					continue;
				}
			}
		}
		pt_strbuf_putc(&sb, *p++);
	}
	return pt_strbuf_steal(&sb);
}

static json_t *to_path(const json_t *v, char **why)
{
	json_t *s = to_str(v, why);
	if (!s)
		return NULL;
	char *expanded = expand_path(json_string_value(s));
	json_decref(s);
	json_t *r = expanded ? json_string(expanded) : NULL;
	free(expanded);
	return r;
}

static json_t *to_raw(const json_t *v, char **why)
{
	(void)why;
	return json_incref((json_t *)v);
}

typedef json_t *(*coerce_fn)(const json_t *, char **);

static coerce_fn coercion_for(const char *type)
{
	static const struct {
		const char *name;
		coerce_fn fn;
	} table[] = {{"str", to_str},   {"bool", to_bool}, {"int", to_int},   {"float", to_float},
	             {"list", to_list}, {"dict", to_dict}, {"path", to_path}, {"raw", to_raw}};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (strcmp(table[i].name, type) == 0)
			return table[i].fn;
	return to_raw;
}

static const char *spec_type(const json_t *opt)
{
	const char *t = json_string_value(json_object_get(opt, "type"));
	return t ? t : "str";
}

static void validate_level(const json_t *spec, json_t *params, json_t *ctx, const char *prefix,
                           struct errors *e);

static void record_unsupported(struct errors *e, const json_t *spec, json_t *ctx, const char *key)
{
	struct pt_strbuf sb = PT_STRBUF_INIT;
	size_t i;
	json_t *v;
	json_array_foreach (ctx, i, v) {
		pt_strbuf_puts(&sb, json_string_value(v));
		pt_strbuf_putc(&sb, '.');
	}
	pt_strbuf_puts(&sb, key);
	json_array_append_new(e->unsupported_names, json_string(pt_strbuf_str(&sb)));
	pt_strbuf_release(&sb);
	e->supported_level = spec;
}

/* An alias's value goes to its option. When the option already holds a value
 * (given under its own name, or by an earlier alias: AnsibleModule checks after
 * each assignment), the alias still wins and AnsibleModule warns; prefix names
 * the suboption level ("" at the top, "devices[0]." below). */
static void handle_aliases(const json_t *spec, json_t *params, const char *prefix, struct errors *e)
{
	const char *name;
	json_t *opt;
	json_object_foreach ((json_t *)spec, name, opt) {
		size_t i;
		json_t *alias;
		json_array_foreach (json_object_get(opt, "aliases"), i, alias) {
			json_t *v = json_object_get(params, json_string_value(alias));
			if (!v)
				continue;
			json_t *dst = *prefix ? e->warnings : e->top_warnings;
			if (json_object_get(params, name) && dst) {
				_cleanup_free_ char *w = NULL;
				if (asprintf(&w, "Both option %s%s and its alias %s%s are set.",
				             prefix, name, prefix, json_string_value(alias)) < 0 ||
				    json_array_append_new(dst, json_string(w)) < 0)
					e->oom = true;
			}
			json_object_set(params, name, v);
		}
	}
}

static bool is_legal(const json_t *spec, const char *key)
{
	if (json_object_get(spec, key))
		return true;
	const char *name;
	json_t *opt;
	json_object_foreach ((json_t *)spec, name, opt) {
		size_t i;
		json_t *alias;
		json_array_foreach (json_object_get(opt, "aliases"), i, alias) {
			if (strcmp(json_string_value(alias), key) == 0)
				return true;
		}
	}
	return false;
}

static void check_required(const json_t *spec, const json_t *params, json_t *ctx, struct errors *e)
{
	json_t *missing = json_array();
	const char *name;
	json_t *opt;
	json_object_foreach ((json_t *)spec, name, opt) {
		if (json_is_true(json_object_get(opt, "required")) &&
		    !json_object_get(params, name))
			json_array_append_new(missing, json_string(name));
	}
	if (json_array_size(missing)) {
		/* AnsibleModule sorts the names. */
		size_t n = json_array_size(missing);
		const char **names = calloc(n, sizeof *names);
		for (size_t i = 0; names && i < n; i++)
			names[i] = json_string_value(json_array_get(missing, i));
		for (size_t i = 0; names && i < n; i++)
			for (size_t j = i + 1; j < n; j++)
				if (strcmp(names[j], names[i]) < 0) {
					const char *t = names[i];
					names[i] = names[j];
					names[j] = t;
				}
		struct pt_strbuf sb = PT_STRBUF_INIT;
		for (size_t i = 0; names && i < n; i++)
			pt_strbuf_printf(&sb, "%s%s", i ? ", " : "", names[i]);
		if (json_array_size(ctx)) {
			_cleanup_free_ char *c = context_str(ctx);
			error_add(e, "missing required arguments: %s found in %s",
			          pt_strbuf_str(&sb), c);
		} else {
			error_add(e, "missing required arguments: %s", pt_strbuf_str(&sb));
		}
		pt_strbuf_release(&sb);
		free(names);
	}
	json_decref(missing);
}

static void check_types(const json_t *spec, json_t *params, json_t *ctx, struct errors *e)
{
	const char *name;
	json_t *opt;
	json_object_foreach ((json_t *)spec, name, opt) {
		json_t *value = json_object_get(params, name);
		if (!value)
			continue;
		/* 2.14 leaves every null alone; 2.19 only those of options neither
		 * required nor defaulted, and converts the rest: str and path to "". */
		if (json_is_null(value)) {
			json_t *def = json_object_get(opt, "default");
			if (active_rules == PT_ANSIBLE_2_14 ||
			    (!json_is_true(json_object_get(opt, "required")) &&
			     (!def || json_is_null(def))))
				continue;
			const char *t = spec_type(opt);
			if (strcmp(t, "raw") == 0)
				continue;
			if (strcmp(t, "str") == 0 || strcmp(t, "path") == 0) {
				json_object_set_new(params, name, json_string(""));
				continue;
			}
		}
		const char *type = spec_type(opt);
		_cleanup_free_ char *why = NULL;
		_cleanup_free_ char *c = json_array_size(ctx) ? context_str(ctx) : NULL;
		json_t *coerced = coercion_for(type)(value, &why);
		if (!coerced) {
			error_add(e,
			          "argument '%s' is of type %s%s%s%s and we were unable to convert "
			          "to %s: %s",
			          name, arg_type(value), c ? " found in '" : "", c ? c : "",
			          c ? "'." : "", type, why ? why : "out of memory");
			continue;
		}
		const char *elements = json_string_value(json_object_get(opt, "elements"));
		if (elements && json_is_array(coerced)) {
			json_t *out = json_array();
			size_t i;
			json_t *item;
			json_array_foreach (coerced, i, item) {
				_cleanup_free_ char *ewhy = NULL;
				json_t *ci = coercion_for(elements)(item, &ewhy);
				if (!ci) {
					error_add(e,
					          "Elements value for option '%s'%s%s%s is of type "
					          "%s and we "
					          "were unable to convert to %s: %s",
					          name, c ? " found in '" : "", c ? c : "",
					          c ? "'" : "", arg_type(item), elements,
					          ewhy ? ewhy : "out of memory");
					ci = json_incref(item);
				}
				json_array_append_new(out, ci);
			}
			json_decref(coerced);
			coerced = out;
		}
		json_object_set_new(params, name, coerced);
	}
}

static void check_choices(const json_t *spec, const json_t *params, json_t *ctx, struct errors *e)
{
	const char *name;
	json_t *opt;
	json_object_foreach ((json_t *)spec, name, opt) {
		json_t *choices = json_object_get(opt, "choices");
		json_t *value = json_object_get(params, name);
		if (!json_is_array(choices) || !value)
			continue;
		struct pt_strbuf list = PT_STRBUF_INIT;
		size_t i;
		json_t *ch;
		json_array_foreach (choices, i, ch) {
			_cleanup_free_ char *s = py_str(ch);
			pt_strbuf_printf(&list, "%s%s", i ? ", " : "", s);
		}
		_cleanup_free_ char *c = json_array_size(ctx) ? context_str(ctx) : NULL;
		if (json_is_array(value)) {
			struct pt_strbuf bad = PT_STRBUF_INIT;
			size_t j;
			json_t *item;
			json_array_foreach (value, j, item) {
				bool found = false;
				json_array_foreach (choices, i, ch)
					found |= json_equal(ch, item);
				if (!found) {
					_cleanup_free_ char *s = py_str(item);
					pt_strbuf_printf(&bad, "%s%s", bad.len ? ", " : "", s);
				}
			}
			if (bad.len)
				error_add(e,
				          "value of %s must be one or more of: %s. Got no match "
				          "for: %s%s%s",
				          name, pt_strbuf_str(&list), pt_strbuf_str(&bad),
				          c ? " found in " : "", c ? c : "");
			pt_strbuf_release(&bad);
		} else {
			bool found = false;
			json_array_foreach (choices, i, ch)
				found |= json_equal(ch, value);
			if (!found) {
				_cleanup_free_ char *s = py_str(value);
				error_add(e, "value of %s must be one of: %s, got: %s%s%s", name,
				          pt_strbuf_str(&list), s, c ? " found in " : "",
				          c ? c : "");
			}
		}
		pt_strbuf_release(&list);
	}
}

/* Defaults are filled twice, as AnsibleModule does: real defaults before the
 * required and type checks (so they are coerced too), nulls for the rest after. */
static void set_defaults(const json_t *spec, json_t *params, bool fill_null)
{
	const char *name;
	json_t *opt;
	json_object_foreach ((json_t *)spec, name, opt) {
		if (json_object_get(params, name))
			continue;
		json_t *def = json_object_get(opt, "default");
		if (def)
			json_object_set_new(params, name, json_deep_copy(def));
		else if (fill_null)
			json_object_set_new(params, name, json_null());
	}
}

static void check_suboptions(const json_t *spec, json_t *params, json_t *ctx, const char *prefix,
                             struct errors *e)
{
	const char *name;
	json_t *opt;
	json_object_foreach ((json_t *)spec, name, opt) {
		json_t *sub = json_object_get(opt, "options");
		json_t *value = json_object_get(params, name);
		if (!sub || !value || json_is_null(value))
			continue;
		json_array_append_new(ctx, json_string(name));
		if (json_is_object(value)) {
			_cleanup_free_ char *sub_prefix = NULL;
			if (asprintf(&sub_prefix, "%s%s.", prefix, name) < 0)
				e->oom = true;
			else
				validate_level(sub, value, ctx, sub_prefix, e);
		} else if (json_is_array(value)) {
			size_t i;
			json_t *item;
			json_array_foreach (value, i, item) {
				_cleanup_free_ char *sub_prefix = NULL;
				if (!json_is_object(item))
					continue;
				if (asprintf(&sub_prefix, "%s%s[%zu].", prefix, name, i) < 0)
					e->oom = true;
				else
					validate_level(sub, item, ctx, sub_prefix, e);
			}
		}
		json_array_remove(ctx, json_array_size(ctx) - 1);
	}
}

static void validate_level(const json_t *spec, json_t *params, json_t *ctx, const char *prefix,
                           struct errors *e)
{
	handle_aliases(spec, params, prefix, e);
	const char *key;
	json_t *v;
	json_object_foreach (params, key, v) {
		if (!is_legal(spec, key))
			record_unsupported(e, spec, ctx, key);
	}
	set_defaults(spec, params, false);
	check_required(spec, params, ctx, e);
	check_types(spec, params, ctx, e);
	check_choices(spec, params, ctx, e);
	set_defaults(spec, params, true);
	check_suboptions(spec, params, ctx, prefix, e);
}

static int cmp_json_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "a, b, c (alias1, alias2)": the spec's names, then its aliases, each sorted. */
static char *supported_string(const json_t *spec)
{
	size_t n = json_object_size(spec), na = 0;
	const char **names = calloc(n + 1, sizeof *names);
	const char **aliases = NULL;
	size_t i = 0;
	const char *name;
	json_t *opt;
	json_object_foreach ((json_t *)spec, name, opt) {
		names[i++] = name;
		json_t *al = json_object_get(opt, "aliases");
		size_t k;
		json_t *a;
		json_array_foreach (al, k, a) {
			const char **grown = realloc(aliases, (na + 1) * sizeof *aliases);
			if (!grown)
				break;
			aliases = grown;
			aliases[na++] = json_string_value(a);
		}
	}
	qsort(names, n, sizeof *names, cmp_json_str);
	if (na)
		qsort(aliases, na, sizeof *aliases, cmp_json_str);
	struct pt_strbuf sb = PT_STRBUF_INIT;
	for (i = 0; i < n; i++)
		pt_strbuf_printf(&sb, "%s%s", i ? ", " : "", names[i]);
	if (na) {
		pt_strbuf_puts(&sb, " (");
		for (i = 0; i < na; i++)
			pt_strbuf_printf(&sb, "%s%s", i ? ", " : "", aliases[i]);
		pt_strbuf_putc(&sb, ')');
	}
	free(names);
	free(aliases);
	return pt_strbuf_steal(&sb);
}

enum pt_ansible_rules pt_ansible_rules_for(const char *version)
{
	unsigned major, minor;
	if (version && sscanf(version, "%u.%u", &major, &minor) == 2 &&
	    (major < 2 || (major == 2 && minor < 19)))
		return PT_ANSIBLE_2_14;
	return PT_ANSIBLE_2_19;
}

int pt_argspec_validate(const json_t *spec, const char *module_name, const json_t *input,
                        json_t **params, char **msg, json_t *warnings)
{
	return pt_argspec_validate_as(PT_ANSIBLE_2_14, spec, module_name, input, params, msg,
	                              warnings);
}

int pt_argspec_validate_as(enum pt_ansible_rules rules, const json_t *spec, const char *module_name,
                           const json_t *input, json_t **params, char **msg, json_t *warnings)
{
	active_rules = rules;
	*params = NULL;
	*msg = NULL;
	struct errors e = {.unsupported_names = json_array(), .warnings = warnings};
	json_t *p = json_deep_copy(input);
	json_t *ctx = json_array();
	if (!p || !ctx || !e.unsupported_names) {
		json_decref(p);
		json_decref(ctx);
		json_decref(e.unsupported_names);
		return -ENOMEM;
	}
	/* AnsibleModule emits the suboptions' alias warnings while it validates
	 * them, and the top level's afterwards: keep that order. */
	e.top_warnings = warnings ? json_array() : NULL;
	validate_level(spec, p, ctx, "", &e);
	json_decref(ctx);
	if (e.top_warnings) {
		json_array_extend(warnings, e.top_warnings);
		json_decref(e.top_warnings);
	}

	size_t nun = json_array_size(e.unsupported_names);
	if (!e.first && nun) {
		const char **names = calloc(nun, sizeof *names);
		for (size_t i = 0; names && i < nun; i++)
			names[i] = json_string_value(json_array_get(e.unsupported_names, i));
		if (names)
			qsort(names, nun, sizeof *names, cmp_json_str);
		struct pt_strbuf list = PT_STRBUF_INIT;
		for (size_t i = 0; names && i < nun; i++)
			pt_strbuf_printf(&list, "%s%s", i ? ", " : "", names[i]);
		_cleanup_free_ char *supported = supported_string(e.supported_level);
		error_add(&e,
		          "Unsupported parameters for (%s) module: %s. Supported parameters "
		          "include: %s.",
		          module_name, pt_strbuf_str(&list), supported ? supported : "");
		pt_strbuf_release(&list);
		free(names);
	}
	json_decref(e.unsupported_names);
	if (e.first || e.oom) {
		json_decref(p);
		*msg = e.first;
		return e.first ? -EINVAL : -ENOMEM;
	}
	*params = p;
	return 0;
}

static void mask_level(const json_t *spec, json_t *params)
{
	const char *name;
	json_t *opt;
	json_object_foreach ((json_t *)spec, name, opt) {
		json_t *v = json_object_get(params, name);
		if (!v || json_is_null(v))
			continue;
		if (json_is_true(json_object_get(opt, "no_log"))) {
			json_object_set_new(params, name, json_string(PT_NO_LOG_MASK));
			/* the value also shows under its aliases */
			size_t i;
			json_t *alias;
			json_array_foreach (json_object_get(opt, "aliases"), i, alias) {
				if (json_object_get(params, json_string_value(alias)))
					json_object_set_new(params, json_string_value(alias),
					                    json_string(PT_NO_LOG_MASK));
			}
			continue;
		}
		json_t *sub = json_object_get(opt, "options");
		if (!sub)
			continue;
		if (json_is_object(v))
			mask_level(sub, v);
		else if (json_is_array(v)) {
			size_t i;
			json_t *item;
			json_array_foreach (v, i, item) {
				if (json_is_object(item))
					mask_level(sub, item);
			}
		}
	}
}

json_t *pt_argspec_mask_no_log(const json_t *spec, const json_t *params)
{
	json_t *copy = json_deep_copy(params);
	if (copy)
		mask_level(spec, copy);
	return copy;
}

json_t *pt_argspec_load(const char *spec_json)
{
	json_t *spec = json_loads(spec_json, 0, NULL);
	if (spec && !json_is_object(spec)) {
		json_decref(spec);
		return NULL;
	}
	return spec;
}
