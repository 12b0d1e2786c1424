/* What the libFuzzer harnesses share: an invariant check that aborts (which
 * libFuzzer reports as a crash, with the input saved) and names the condition,
 * and the splitting of an input into a text and its parameter lines. */
#ifndef PT_FUZZ_CHECK_H
#define PT_FUZZ_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define check(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,       \
			        #cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* An input split at its first NUL byte: the text before it (the file under
 * test, NUL-terminated) and up to max_params lines after it (the parameters of
 * the edit). Files with a NUL byte are refused by the editors anyway, so the
 * plain corpus files (which hold none) are texts with no parameters. */
struct fuzz_input {
	char *buf;    /* a NUL-terminated copy of the whole input (owned) */
	char *text;   /* points into buf */
	size_t len;   /* length of text */
	char **param; /* points into buf */
	size_t n_param;
};

static inline int fuzz_input_split(const uint8_t *data, size_t size, size_t max_params,
                                   struct fuzz_input *in)
{
	memset(in, 0, sizeof *in);
	in->buf = malloc(size + 1);
	in->param = calloc(max_params + 1, sizeof *in->param);
	if (!in->buf || !in->param) {
		free(in->buf);
		free(in->param);
		return -1;
	}
	memcpy(in->buf, data, size);
	in->buf[size] = '\0';
	in->text = in->buf;
	in->len = strlen(in->buf);
	if (in->len == size)
		return 0;
	char *p = in->buf + in->len + 1, *end = in->buf + size;
	while (p <= end && in->n_param < max_params) {
		char *e = p;
		while (e < end && *e != '\n' && *e != '\0')
			e++;
		*e = '\0';
		in->param[in->n_param++] = p;
		p = e + 1;
	}
	return 0;
}

static inline void fuzz_input_release(struct fuzz_input *in)
{
	free(in->buf);
	free(in->param);
}

#endif
