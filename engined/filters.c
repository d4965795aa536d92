/*
 * filters: see filters.h.
 */
#include "filters.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

struct filter_key {
    char *key;
    char **values; /* NULL-terminated */
};

struct filters {
    struct filter_key *keys;
    size_t count;
};

void filters_free(struct filters *filters)
{
    if (!filters)
        return;
    for (size_t i = 0; i < filters->count; i++) {
        free(filters->keys[i].key);
        json_free_string_array(filters->keys[i].values);
    }
    free(filters->keys);
    free(filters);
}

static int add_value(struct filter_key *key, const char *value, struct berr *err)
{
    size_t n = 0;
    char **grown;

    while (key->values && key->values[n])
        n++;
    grown = realloc(key->values, (n + 2) * sizeof(char *));
    if (!grown)
        return berr_set(err, BERR_NOMEM, "out of memory");
    key->values = grown;
    grown[n] = strdup(value);
    grown[n + 1] = NULL;
    return grown[n] ? 0 : berr_set(err, BERR_NOMEM, "out of memory");
}

static int parse_key(const char *name, yajl_val values, struct filter_key *key, struct berr *err)
{
    size_t i;
    int rc;

    key->key = strdup(name);
    key->values = calloc(1, sizeof(char *));
    if (!key->key || !key->values)
        return berr_set(err, BERR_NOMEM, "out of memory");
    if (YAJL_IS_OBJECT(values)) {
        for (i = 0; i < values->u.object.len; i++)
            if (YAJL_IS_TRUE(values->u.object.values[i]) &&
                (rc = add_value(key, values->u.object.keys[i], err)))
                return rc;
        return 0;
    }
    if (YAJL_IS_ARRAY(values)) {
        for (i = 0; i < values->u.array.len; i++) {
            yajl_val item = values->u.array.values[i];
            if (!YAJL_IS_STRING(item))
                return berr_set(err, BERR_INVALID, "invalid filter: %s values must be strings",
                                name);
            if ((rc = add_value(key, item->u.string, err)))
                return rc;
        }
        return 0;
    }
    return berr_set(err, BERR_INVALID, "invalid filter: %s: expected an object or an array", name);
}

int filters_parse(const char *text, struct filters **out, struct berr *err)
{
    struct filters *filters = calloc(1, sizeof(*filters));
    yajl_val tree = NULL;
    int rc = 0;

    if (!filters)
        return berr_set(err, BERR_NOMEM, "out of memory");
    *out = filters;
    if (!text || !*text)
        return 0;
    if ((rc = json_parse(text, &tree, err))) {
        filters_free(filters);
        *out = NULL;
        return berr_prefix(err, "invalid filters");
    }
    if (!YAJL_IS_OBJECT(tree)) {
        rc = berr_set(err, BERR_INVALID, "invalid filters: expected a JSON object");
        goto out;
    }
    filters->keys = calloc(tree->u.object.len ? tree->u.object.len : 1, sizeof(*filters->keys));
    if (!filters->keys) {
        rc = berr_set(err, BERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < tree->u.object.len && rc == 0; i++) {
        rc = parse_key(tree->u.object.keys[i], tree->u.object.values[i],
                       &filters->keys[filters->count], err);
        filters->count++;
    }
out:
    yajl_tree_free(tree);
    if (rc) {
        filters_free(filters);
        *out = NULL;
    }
    return rc;
}

static const struct filter_key *find(const struct filters *filters, const char *key)
{
    for (size_t i = 0; filters && i < filters->count; i++)
        if (strcmp(filters->keys[i].key, key) == 0)
            return &filters->keys[i];
    return NULL;
}

int filters_check_keys(const struct filters *filters, const char *const *allowed, struct berr *err)
{
    for (size_t i = 0; filters && i < filters->count; i++) {
        size_t k;
        for (k = 0; allowed[k] && strcmp(allowed[k], filters->keys[i].key) != 0; k++)
            ;
        if (!allowed[k])
            return berr_set(err, BERR_INVALID, "invalid filter '%s'", filters->keys[i].key);
    }
    return 0;
}

bool filters_has(const struct filters *filters, const char *key)
{
    const struct filter_key *found = find(filters, key);

    return found && found->values && found->values[0];
}

const char *const *filters_values(const struct filters *filters, const char *key)
{
    const struct filter_key *found = find(filters, key);

    return found && found->values && found->values[0] ? (const char *const *)found->values : NULL;
}

static bool regex_matches(const char *pattern, const char *text)
{
    regex_t regex;
    bool matched;

    if (regcomp(&regex, pattern, REG_EXTENDED | REG_NOSUB) != 0)
        return strstr(text, pattern) != NULL;
    matched = regexec(&regex, text, 0, NULL, 0) == 0;
    regfree(&regex);
    return matched;
}

bool filters_match(const struct filters *filters, const char *key, const char *text)
{
    const char *const *values = filters_values(filters, key);

    if (!values)
        return true;
    for (size_t i = 0; values[i]; i++)
        if (regex_matches(values[i], text))
            return true;
    return false;
}

bool filters_match_exact(const struct filters *filters, const char *key, const char *text)
{
    const char *const *values = filters_values(filters, key);

    if (!values)
        return true;
    for (size_t i = 0; values[i]; i++)
        if (strcmp(values[i], text) == 0)
            return true;
    return false;
}

bool filters_label_holds(yajl_val labels, const char *expression)
{
    const char *equals = strchr(expression, '=');
    size_t length = equals ? (size_t)(equals - expression) : strlen(expression);

    for (size_t k = 0; YAJL_IS_OBJECT(labels) && k < labels->u.object.len; k++) {
        yajl_val value = labels->u.object.values[k];
        if (strlen(labels->u.object.keys[k]) != length ||
            strncmp(labels->u.object.keys[k], expression, length) != 0)
            continue;
        return !equals || (YAJL_IS_STRING(value) && strcmp(value->u.string, equals + 1) == 0);
    }
    return false;
}

bool filters_match_labels(const struct filters *filters, const char *key, yajl_val labels)
{
    const char *const *values = filters_values(filters, key);

    for (size_t i = 0; values && values[i]; i++)
        if (!filters_label_holds(labels, values[i]))
            return false;
    return true;
}
