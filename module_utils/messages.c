#include "messages.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int pt_message_format(char **msg, int e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		*msg = NULL;
		return -ENOMEM;
	}
	return e;
}

int pt_message_list_addf(struct pt_message_list *l, const char *fmt, ...)
{
	char **items = realloc(l->items, (l->n + 1) * sizeof *items);
	if (!items)
		return -ENOMEM;
	l->items = items;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&items[l->n], fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	l->n++;
	return 0;
}

void pt_message_list_release(struct pt_message_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}
