/*
 * filter: the List calls' filter strings, as containerd spells them.
 *
 * Why: every List RPC (content, images, leases, ingests) takes "repeated
 * string filters" with one grammar, so one parser serves them all and the
 * stores only say how to look a field up. A list of filters matches when
 * any of them matches (OR); one filter is clauses separated by commas that
 * must all match (AND). A clause is
 *
 *     FIELD              the field is present
 *     FIELD==VALUE       equal
 *     FIELD!=VALUE       present and not equal
 *     FIELD~=REGEX       present and matching the POSIX extended regex
 *
 * FIELD is a dotted path ("digest", "target.digest", "labels.KEY" where KEY
 * may itself contain dots); VALUE is bare (up to the next comma) or a
 * double-quoted string with backslash escapes. No filters match everything.
 */
#ifndef BERTH_SUPERVISOR_FILTER_H
#define BERTH_SUPERVISOR_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "berr.h"

struct filter;

/* Parses count strings; BERR_INVALID naming the bad filter. */
int filter_parse(const char *const *filters, size_t count, struct filter **out, struct berr *err);
void filter_free(struct filter *filter);

/* Returns the field's value, or NULL when the object has no such field. */
typedef const char *(*filter_lookup)(const char *field, void *object);

/* True when filter (NULL: no filters) matches the object. */
bool filter_match(const struct filter *filter, filter_lookup lookup, void *object);

#endif
