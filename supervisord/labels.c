/*
 * labels: see labels.h. Sets are small (a handful of labels per record), so
 * lookups are linear.
 */
#include "labels.h"

#include <stdlib.h>
#include <sys/types.h>
#include <string.h>

int label_validate(const char *key, const char *value, struct berr *err)
{
    size_t size;

    if (!key || !key[0])
        return berr_set(err, BERR_INVALID, "label key must not be empty");
    size = strlen(key) + (value ? strlen(value) : 0);
    if (size > LABEL_MAX_SIZE)
        return berr_set(err, BERR_INVALID, "label %.64s: key and value exceed %d bytes", key,
                        LABEL_MAX_SIZE);
    return 0;
}

static ssize_t find(const struct label_set *set, const char *key)
{
    size_t i;

    for (i = 0; i < set->count; i++)
        if (strcmp(set->keys[i], key) == 0)
            return (ssize_t)i;
    return -1;
}

const char *label_set_get(const struct label_set *set, const char *key)
{
    ssize_t index = find(set, key);

    return index < 0 ? NULL : set->values[index];
}

int label_set_put(struct label_set *set, const char *key, const char *value, struct berr *err)
{
    ssize_t index;
    char *value_copy;
    int rc;

    if ((rc = label_validate(key, value, err)))
        return rc;
    value_copy = strdup(value ? value : "");
    if (!value_copy)
        return berr_set(err, BERR_NOMEM, "label %s: out of memory", key);
    index = find(set, key);
    if (index >= 0) {
        free(set->values[index]);
        set->values[index] = value_copy;
        return 0;
    }
    if (set->count == set->capacity) {
        size_t capacity = set->capacity ? set->capacity * 2 : 8;
        char **keys = realloc(set->keys, capacity * sizeof(*keys));
        char **values;
        if (keys)
            set->keys = keys;
        values = keys ? realloc(set->values, capacity * sizeof(*values)) : NULL;
        if (!values) {
            free(value_copy);
            return berr_set(err, BERR_NOMEM, "label %s: out of memory", key);
        }
        set->values = values;
        set->capacity = capacity;
    }
    set->keys[set->count] = strdup(key);
    if (!set->keys[set->count]) {
        free(value_copy);
        return berr_set(err, BERR_NOMEM, "label %s: out of memory", key);
    }
    set->values[set->count++] = value_copy;
    return 0;
}

void label_set_remove(struct label_set *set, const char *key)
{
    ssize_t index = find(set, key);

    if (index < 0)
        return;
    free(set->keys[index]);
    free(set->values[index]);
    memmove(set->keys + index, set->keys + index + 1,
            (set->count - (size_t)index - 1) * sizeof(*set->keys));
    memmove(set->values + index, set->values + index + 1,
            (set->count - (size_t)index - 1) * sizeof(*set->values));
    set->count--;
}

void label_set_clear(struct label_set *set)
{
    size_t i;

    for (i = 0; i < set->count; i++) {
        free(set->keys[i]);
        free(set->values[i]);
    }
    free(set->keys);
    free(set->values);
    memset(set, 0, sizeof(*set));
}
