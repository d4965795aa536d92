/*
 * labels: the key/value labels that content, images and leases carry.
 *
 * Why a module: three record types (and the gRPC requests that feed them)
 * hold labels as protobuf map entries of three different generated types.
 * The stores work on one plain C form, struct label, and a small owning set
 * used while a record is rebuilt (update masks "labels" and "labels.KEY").
 * Limits are containerd's: a key is non-empty and key plus value fit in 4096
 * bytes, so a label cannot bloat a record without bound.
 */
#ifndef BERTH_SUPERVISOR_LABELS_H
#define BERTH_SUPERVISOR_LABELS_H

#include <stdbool.h>
#include <stddef.h>

#include "berr.h"

#define LABEL_MAX_SIZE 4096

/* Borrowed strings: what callers pass in. */
struct label {
    const char *key;
    const char *value;
};

/* An owning set of labels, keys unique, in insertion order. */
struct label_set {
    size_t count;
    size_t capacity;
    char **keys;
    char **values;
};

/* BERR_INVALID (naming the key) for an empty key or an oversized label. */
int label_validate(const char *key, const char *value, struct berr *err);

/* Adds or replaces key. */
int label_set_put(struct label_set *set, const char *key, const char *value, struct berr *err);
void label_set_remove(struct label_set *set, const char *key);
/* NULL when absent. */
const char *label_set_get(const struct label_set *set, const char *key);
void label_set_clear(struct label_set *set);

#endif
