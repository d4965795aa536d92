/*
 * filter: the List calls' filter strings, as containerd spells them.
 *
 * Why: every List RPC (content, ingests, images, leases, snapshots,
 * containers, tasks) and the event subscriptions take "repeated string
 * filters" with one grammar, so one parser serves them all and the stores
 * only say how to look a field up. A list of filters matches when any of
 * them matches (OR); one filter is clauses separated by commas that must
 * all match (AND). A clause is
 *
 *     FIELD              the field is present
 *     FIELD==VALUE       present and equal
 *     FIELD!=VALUE       not equal
 *     FIELD~=REGEX       matching the POSIX extended regex
 *
 * where != and ~= read an absent field as "", as containerd's matcher does:
 * labels.x!=1 also matches what has no label x, and labels.x~=^$ too.
 *
 * FIELD is a dotted path ("digest", "target.digest", "labels.KEY" where KEY
 * may itself contain dots) whose parts after a dot may be double-quoted
 * (labels."a key, any key"). VALUE is bare (up to the next comma) or
 * double-quoted; a REGEX may also be quoted /like this/ or |like this|.
 * Quoted strings take Go's escapes (\n, \\, \xHH, \uHHHH, \" in "...",
 * \/ in /.../) and no others, as containerd's do: the regex a\.b is
 * "a\\.b" or /a\\.b/. Lookups say which fields exist, so an unknown
 * field is absent, not an error. No filters match everything.
 *
 * Where containerd is stricter (a bare VALUE must not start with / or |
 * nor hold spaces, nor be empty; FIELD parts are [A-Za-z0-9_]) this
 * accepts more, so topic==/tasks/exit works; an empty filter string, which
 * containerd takes for "all", is an error here. Otherwise the two read a
 * filter alike, but for the regex dialect (Go's RE2 there: \d and (?i) are
 * not POSIX).
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
