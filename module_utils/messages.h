/* Messages for the user, made by library code, which never prints: a failure's
 * message handed back through a char **errmsg, and a list of warnings the
 * module's main hands, in order, to pt_warn. */
#ifndef PT_MESSAGES_H
#define PT_MESSAGES_H

#include <stddef.h>

/* Zero-initialise ({0}) before the first add. */
struct pt_message_list {
	char **items; /* the messages, in the order added (owned, each owned) */
	size_t n;     /* number of messages */
};

/* Set *msg to a message formatted as printf does (caller frees) and return e,
 * the -errno of the failure it explains; when the message cannot be made,
 * *msg is NULL and the return is -ENOMEM. For `return pt_message_format(errmsg,
 * -EINVAL, "...", ...)`. */
int pt_message_format(char **msg, int e, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Append a message formatted as printf does. 0, or -ENOMEM with the list left
 * as it was. The text is copied; it need not be UTF-8. */
int pt_message_list_addf(struct pt_message_list *l, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Free every message; l is empty afterwards and may be reused. */
void pt_message_list_release(struct pt_message_list *l);

#endif
