/*
 * names: generated container names ("adjective_surname"), for containers
 * created without one. The store checks uniqueness and asks again.
 */
#ifndef BERTH_ENGINED_NAMES_H
#define BERTH_ENGINED_NAMES_H

#include <stddef.h>

/* A random name into out (without the leading "/"). attempt > 0 adds a
 * digit, as the store does once plain names keep colliding. */
void names_generate(char *out, size_t size, int attempt);

#endif
