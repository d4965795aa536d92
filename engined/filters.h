/*
 * filters: the `filters` query argument of list and prune calls, as
 * dockerd reads it: JSON mapping a key to its values, either
 * {"label": {"a=b": true}} or the older {"label": ["a=b"]}.
 *
 * Values of one key are alternatives (any may match), different keys must
 * all match; labels are the exception (every label filter must hold), as
 * in dockerd.
 */
#ifndef BERTH_ENGINED_FILTERS_H
#define BERTH_ENGINED_FILTERS_H

#include <stdbool.h>
#include <stddef.h>

#include "berr.h"
#include "json.h"

struct filters;

/* text NULL or "": no filters. BERR_INVALID for malformed JSON. */
int filters_parse(const char *text, struct filters **out, struct berr *err);
void filters_free(struct filters *filters);

/* Every key must be one of allowed (NULL-terminated): else BERR_INVALID
 * "invalid filter 'KEY'". */
int filters_check_keys(const struct filters *filters, const char *const *allowed, struct berr *err);

bool filters_has(const struct filters *filters, const char *key);
/* The values of key (NULL-terminated; NULL when none). */
const char *const *filters_values(const struct filters *filters, const char *key);

/* Any value of key, as an unanchored regular expression, matches text
 * (dockerd's Match); true when key has no values. */
bool filters_match(const struct filters *filters, const char *key, const char *text);
/* Any value equals text (dockerd's ExactMatch); true when key has none. */
bool filters_match_exact(const struct filters *filters, const char *key, const char *text);
/* Every "KEY" or "KEY=VALUE" of key holds in labels (an object of strings,
 * may be NULL); true when key has none. */
bool filters_match_labels(const struct filters *filters, const char *key, yajl_val labels);

/* labels has KEY (expression "KEY") or KEY=VALUE ("KEY=VALUE"). */
bool filters_label_holds(yajl_val labels, const char *expression);

#endif
