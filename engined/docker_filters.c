/*
 * docker_filters: see docker_filters.h. A filter set is a small array of
 * names, each with its values; sets hold a handful of entries, so lookups
 * are linear.
 */
#include "docker_filters.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "reference.h"

struct filter_entry {
    char *name;
    char **values; /* NULL-terminated */
    size_t count;
};

struct docker_filters {
    struct filter_entry *entries;
    size_t count;
};

const char *const docker_event_filter_names[] = {
    "config", "container", "daemon", "event",   "image", "label",  "network", "node",
    "plugin", "scope",     "secret", "service", "type",  "volume", NULL,
};

void docker_filters_free(struct docker_filters *filters)
{
    if (!filters)
        return;
    for (size_t i = 0; i < filters->count; i++) {
        free(filters->entries[i].name);
        for (size_t j = 0; j < filters->entries[i].count; j++)
            free(filters->entries[i].values[j]);
        free(filters->entries[i].values);
    }
    free(filters->entries);
    free(filters);
}

static int add_value(struct filter_entry *entry, const char *value, struct berr *err)
{
    char **grown = realloc(entry->values, (entry->count + 2) * sizeof(char *));

    if (!grown)
        return berr_set(err, BERR_NOMEM, "out of memory");
    entry->values = grown;
    if (!(grown[entry->count] = strdup(value)))
        return berr_set(err, BERR_NOMEM, "out of memory");
    grown[++entry->count] = NULL;
    return 0;
}

/* One name's values: ["a", "b"] or {"a": true, "b": true}. */
static int parse_values(struct filter_entry *entry, yajl_val node, struct berr *err)
{
    int rc;

    if (YAJL_IS_ARRAY(node)) {
        for (size_t i = 0; i < node->u.array.len; i++) {
            yajl_val value = node->u.array.values[i];
            if (!YAJL_IS_STRING(value))
                return berr_set(err, BERR_INVALID, "invalid filter '%s': values must be strings",
                                entry->name);
            if ((rc = add_value(entry, YAJL_GET_STRING(value), err)))
                return rc;
        }
        return 0;
    }
    if (!YAJL_IS_OBJECT(node))
        return berr_set(err, BERR_INVALID, "invalid filter '%s': want a list or a map of values",
                        entry->name);
    for (size_t i = 0; i < node->u.object.len; i++) {
        if (YAJL_IS_FALSE(node->u.object.values[i]))
            continue;
        if ((rc = add_value(entry, node->u.object.keys[i], err)))
            return rc;
    }
    return 0;
}

int docker_filters_parse(const char *json, struct docker_filters **out, struct berr *err)
{
    struct docker_filters *filters = calloc(1, sizeof(*filters));
    yajl_val tree = NULL;
    int rc = 0;

    if (!filters)
        return berr_set(err, BERR_NOMEM, "out of memory");
    if (json && *json) {
        if ((rc = json_parse(json, &tree, err))) {
            berr_prefix(err, "invalid filters");
            goto out;
        }
        if (!YAJL_IS_OBJECT(tree)) {
            rc = berr_set(err, BERR_INVALID, "invalid filters: want a JSON object");
            goto out;
        }
        filters->entries = calloc(tree->u.object.len + 1, sizeof(*filters->entries));
        if (!filters->entries) {
            rc = berr_set(err, BERR_NOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < tree->u.object.len && !rc; i++) {
            struct filter_entry *entry = &filters->entries[filters->count++];
            if (!(entry->name = strdup(tree->u.object.keys[i])))
                rc = berr_set(err, BERR_NOMEM, "out of memory");
            else
                rc = parse_values(entry, tree->u.object.values[i], err);
        }
    }
out:
    yajl_tree_free(tree);
    if (rc) {
        docker_filters_free(filters);
        return rc;
    }
    *out = filters;
    return 0;
}

static const struct filter_entry *find(const struct docker_filters *filters, const char *name)
{
    for (size_t i = 0; filters && i < filters->count; i++)
        if (strcmp(filters->entries[i].name, name) == 0)
            return &filters->entries[i];
    return NULL;
}

int docker_filters_validate(const struct docker_filters *filters, const char *const *accepted,
                            struct berr *err)
{
    for (size_t i = 0; i < filters->count; i++) {
        bool known = false;
        for (const char *const *name = accepted; *name && !known; name++)
            known = strcmp(*name, filters->entries[i].name) == 0;
        if (!known)
            return berr_set(err, BERR_INVALID, "invalid filter '%s'", filters->entries[i].name);
    }
    return 0;
}

bool docker_filters_contains(const struct docker_filters *filters, const char *name)
{
    return find(filters, name) != NULL;
}

const char *const *docker_filters_values(const struct docker_filters *filters, const char *name,
                                         size_t *count)
{
    const struct filter_entry *entry = find(filters, name);

    *count = entry ? entry->count : 0;
    return entry && entry->count ? (const char *const *)entry->values : NULL;
}

bool docker_filters_exact(const struct docker_filters *filters, const char *name,
                          const char *source)
{
    const struct filter_entry *entry = find(filters, name);

    if (!entry || !entry->count)
        return true;
    for (size_t i = 0; source && i < entry->count; i++)
        if (strcmp(entry->values[i], source) == 0)
            return true;
    return false;
}

bool docker_filters_fuzzy(const struct docker_filters *filters, const char *name,
                          const char *source)
{
    const struct filter_entry *entry = find(filters, name);

    if (!entry || !entry->count)
        return true;
    for (size_t i = 0; source && i < entry->count; i++)
        if (strncmp(source, entry->values[i], strlen(entry->values[i])) == 0)
            return true;
    return false;
}

static const char *pair_value(const char *const *pairs, const char *key, size_t key_length)
{
    for (; pairs && pairs[0] && pairs[1]; pairs += 2)
        if (strlen(pairs[0]) == key_length && strncmp(pairs[0], key, key_length) == 0)
            return pairs[1];
    return NULL;
}

bool docker_filters_match_pairs(const struct docker_filters *filters, const char *name,
                                const char *const *pairs)
{
    const struct filter_entry *entry = find(filters, name);

    if (!entry || !entry->count)
        return true;
    for (size_t i = 0; i < entry->count; i++) {
        const char *wanted = entry->values[i], *equals = strchr(wanted, '=');
        size_t key_length = equals ? (size_t)(equals - wanted) : strlen(wanted);
        const char *value = pair_value(pairs, wanted, key_length);
        if (!value || (equals && strcmp(value, equals + 1) != 0))
            return false;
    }
    return true;
}

int docker_filters_bool(const struct docker_filters *filters, const char *name, bool fallback,
                        bool *out, struct berr *err)
{
    const struct filter_entry *entry = find(filters, name);

    *out = fallback;
    if (!entry)
        return 0;
    for (size_t i = 0; i < entry->count; i++) {
        const char *value = entry->values[i];
        bool parsed;
        if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
            parsed = true;
        else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
            parsed = false;
        else
            return berr_set(err, BERR_INVALID, "invalid filter '%s=%s'", name, value);
        if (i > 0 && parsed != *out)
            return berr_set(err, BERR_INVALID, "invalid filter '%s': conflicting values", name);
        *out = parsed;
    }
    return 0;
}

/* ---- events ---- */

static bool event_name_matches(const struct docker_filters *filters, const char *type,
                               const struct engine_event *event)
{
    return docker_filters_fuzzy(filters, type, event->actor_id) ||
           docker_filters_fuzzy(filters, type, engine_event_attribute(event, "name"));
}

/* A matching value must also be of the event's own type: "container=x"
 * keeps container events about x and drops every other event. */
static bool typed_name_matches(const struct docker_filters *filters, const char *type,
                               const struct engine_event *event)
{
    size_t count;

    if (!docker_filters_values(filters, type, &count))
        return true;
    return strcmp(event->type, type) == 0 && event_name_matches(filters, type, event);
}

static bool event_action_matches(const struct docker_filters *filters,
                                 const struct engine_event *event)
{
    static const char *const fuzzy_actions[] = {"health_status", "exec_create", "exec_start"};
    size_t count;
    const char *const *values = docker_filters_values(filters, "event", &count);

    for (size_t i = 0; i < count; i++)
        for (size_t j = 0; j < sizeof(fuzzy_actions) / sizeof(fuzzy_actions[0]); j++)
            if (strcmp(values[i], fuzzy_actions[j]) == 0)
                return docker_filters_fuzzy(filters, "event", event->action);
    return docker_filters_exact(filters, "event", event->action);
}

/* "busybox:latest" → "busybox"; what does not parse stays as it is. */
static char *strip_tag(const char *image)
{
    struct image_reference reference;
    char *familiar;

    if (!image || reference_parse(image, &reference, NULL) != 0)
        return image ? strdup(image) : NULL;
    free(reference.tag);
    free(reference.digest);
    reference.tag = reference.digest = NULL;
    familiar = reference_familiar(&reference);
    reference_free(&reference);
    return familiar;
}

/* Image events carry the name in "name", container events in "image". */
static bool event_image_matches(const struct docker_filters *filters,
                                const struct engine_event *event)
{
    const char *name =
        engine_event_attribute(event, strcmp(event->type, "image") == 0 ? "name" : "image");
    char *stripped_id, *stripped_name;
    size_t count;
    bool matched;

    if (!docker_filters_values(filters, "image", &count))
        return true;
    if (docker_filters_exact(filters, "image", event->actor_id) ||
        (name && docker_filters_exact(filters, "image", name)))
        return true;
    stripped_id = strip_tag(event->actor_id);
    stripped_name = strip_tag(name);
    matched = (stripped_id && docker_filters_exact(filters, "image", stripped_id)) ||
              (stripped_name && docker_filters_exact(filters, "image", stripped_name));
    free(stripped_id);
    free(stripped_name);
    return matched;
}

bool docker_filters_match_event(const struct docker_filters *filters,
                                const struct engine_event *event)
{
    static const char *const typed[] = {"container", "daemon",  "network", "volume", "plugin",
                                        "node",      "service", "secret",  "config"};

    if (!event_action_matches(filters, event) ||
        !docker_filters_exact(filters, "type", event->type) ||
        !docker_filters_exact(filters, "scope", "local") || !event_image_matches(filters, event))
        return false;
    for (size_t i = 0; i < sizeof(typed) / sizeof(typed[0]); i++)
        if (!typed_name_matches(filters, typed[i], event))
            return false;
    return docker_filters_match_pairs(filters, "label", (const char *const *)event->attributes);
}
