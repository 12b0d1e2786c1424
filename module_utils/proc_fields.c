#include "proc_fields.h"

#include <string.h>

int pt_proc_fields(char *line, char **fields, int max)
{
	int n = 0;
	char *save = NULL;
	for (char *w = strtok_r(line, " \t\r", &save); w && n < max;
	     w = strtok_r(NULL, " \t\r", &save))
		fields[n++] = w;
	return n;
}
