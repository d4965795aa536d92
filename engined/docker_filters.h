/*
 * docker_filters: the `filters` query argument of the Docker API (moby's
 * filters.Args), and the event filter /events applies with it.
 *
 * Why here: images, containers, networks, volumes, events and prune all
 * take the same JSON, a map from a filter name to its values, written in
 * two spellings clients still send:
 *     {"label": {"a=b": true}, "dangling": {"true": true}}   (current)
 *     {"label": ["a=b"], "dangling": ["true"]}              (before API 1.22)
 * and they match values the same few ways. The rules follow Docker:
 *  - values of one name are alternatives (OR), names are all required
 *    (AND); a name with no values does not filter at all;
 *  - exact match; fuzzy match (a value that is a prefix of the field);
 *  - key/value lists ("label=key" or "label=key=value", every one
 *    required) against a map such as labels or event attributes.
 */
#ifndef BERTH_ENGINED_DOCKER_FILTERS_H
#define BERTH_ENGINED_DOCKER_FILTERS_H

#include <stdbool.h>
#include <stddef.h>

#include "berr.h"
#include "events.h"

struct docker_filters;

/* json NULL or "": no filters (*out is still a valid, empty set).
 * BERR_INVALID for malformed JSON. */
int docker_filters_parse(const char *json, struct docker_filters **out, struct berr *err);
void docker_filters_free(struct docker_filters *filters);

/* BERR_INVALID "invalid filter 'NAME'" for a name not in accepted
 * (NULL-terminated). */
int docker_filters_validate(const struct docker_filters *filters, const char *const *accepted,
                            struct berr *err);

/* The name is present (even with no values). */
bool docker_filters_contains(const struct docker_filters *filters, const char *name);
/* The values of name, in the order given; NULL with *count 0 when absent. */
const char *const *docker_filters_values(const struct docker_filters *filters, const char *name,
                                         size_t *count);

/* True when name has no values, or one of them equals source. */
bool docker_filters_exact(const struct docker_filters *filters, const char *name,
                          const char *source);
/* True when name has no values, or one equals source or is a prefix of it. */
bool docker_filters_fuzzy(const struct docker_filters *filters, const char *name,
                          const char *source);
/* True when name has no values, or every "KEY" / "KEY=VALUE" value is in
 * pairs (key, value, key, value, ..., NULL; may be NULL). */
bool docker_filters_match_pairs(const struct docker_filters *filters, const char *name,
                                const char *const *pairs);

/* A boolean filter ("dangling"): fallback when absent; "true"/"1" or
 * "false"/"0" (every value must agree), else BERR_INVALID. */
int docker_filters_bool(const struct docker_filters *filters, const char *name, bool fallback,
                        bool *out, struct berr *err);

/* The filter names /events accepts, and the test moby's events filter
 * makes: type, event (fuzzy for health_status, exec_create, exec_start),
 * scope, daemon, container, image (ID or name, with or without tag),
 * network, volume, plugin, node, service, secret, config, label. */
extern const char *const docker_event_filter_names[];
bool docker_filters_match_event(const struct docker_filters *filters,
                                const struct engine_event *event);

#endif
