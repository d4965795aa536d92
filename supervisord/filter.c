/*
 * filter: see filter.h. Filters are parsed once per List call into clauses
 * (regexes compiled then), and matched against each record.
 */
#include "filter.h"

#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

enum filter_comparison {
    FILTER_PRESENT,
    FILTER_EQUAL,
    FILTER_NOT_EQUAL,
    FILTER_MATCHES,
};

struct filter_clause {
    char *field;
    enum filter_comparison comparison;
    char *value;
    regex_t regex;
    bool has_regex;
};

struct filter_alternative {
    size_t clause_count;
    struct filter_clause *clauses;
};

struct filter {
    size_t alternative_count;
    struct filter_alternative *alternatives;
};

static void skip_spaces(const char **cursor)
{
    while (**cursor == ' ' || **cursor == '\t')
        (*cursor)++;
}

static bool field_character(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-' || c == '/' || c == ':';
}

/* Reads a VALUE: a quoted string or bare text up to a comma. */
static int parse_value(const char **cursor, char **out, const char *filter, struct berr *err)
{
    const char *start = *cursor;
    size_t length = 0;
    char *value;

    if (*start == '"') {
        const char *p = start + 1;
        value = malloc(strlen(p) + 1);
        if (!value)
            return berr_set(err, BERR_NOMEM, "filter: out of memory");
        while (*p && *p != '"') {
            if (*p == '\\' && p[1])
                p++;
            value[length++] = *p++;
        }
        if (*p != '"') {
            free(value);
            return berr_set(err, BERR_INVALID, "filter %s: unterminated quote", filter);
        }
        value[length] = '\0';
        *cursor = p + 1;
        *out = value;
        return 0;
    }
    while (start[length] && start[length] != ',')
        length++;
    while (length > 0 && (start[length - 1] == ' ' || start[length - 1] == '\t'))
        length--;
    value = strndup(start, length);
    if (!value)
        return berr_set(err, BERR_NOMEM, "filter: out of memory");
    *cursor = start + length;
    *out = value;
    return 0;
}

static int parse_clause(const char **cursor, struct filter_clause *clause, const char *filter,
                        struct berr *err)
{
    const char *start;
    int rc;

    skip_spaces(cursor);
    start = *cursor;
    while (field_character(**cursor))
        (*cursor)++;
    if (*cursor == start)
        return berr_set(err, BERR_INVALID, "filter %s: expected a field name", filter);
    clause->field = strndup(start, (size_t)(*cursor - start));
    if (!clause->field)
        return berr_set(err, BERR_NOMEM, "filter: out of memory");
    skip_spaces(cursor);
    if (**cursor == ',' || **cursor == '\0') {
        clause->comparison = FILTER_PRESENT;
        return 0;
    }
    if (strncmp(*cursor, "==", 2) == 0)
        clause->comparison = FILTER_EQUAL;
    else if (strncmp(*cursor, "!=", 2) == 0)
        clause->comparison = FILTER_NOT_EQUAL;
    else if (strncmp(*cursor, "~=", 2) == 0)
        clause->comparison = FILTER_MATCHES;
    else
        return berr_set(err, BERR_INVALID, "filter %s: expected ==, != or ~= after %s", filter,
                        clause->field);
    *cursor += 2;
    skip_spaces(cursor);
    if ((rc = parse_value(cursor, &clause->value, filter, err)))
        return rc;
    if (clause->comparison == FILTER_MATCHES) {
        if (regcomp(&clause->regex, clause->value, REG_EXTENDED | REG_NOSUB) != 0)
            return berr_set(err, BERR_INVALID, "filter %s: bad regular expression %s", filter,
                            clause->value);
        clause->has_regex = true;
    }
    skip_spaces(cursor);
    if (**cursor != ',' && **cursor != '\0')
        return berr_set(err, BERR_INVALID, "filter %s: unexpected text after %s", filter,
                        clause->field);
    return 0;
}

static int parse_alternative(const char *text, struct filter_alternative *alternative,
                             struct berr *err)
{
    const char *cursor = text;
    int rc;

    for (;;) {
        struct filter_clause *clauses =
            realloc(alternative->clauses, (alternative->clause_count + 1) * sizeof(*clauses));
        if (!clauses)
            return berr_set(err, BERR_NOMEM, "filter: out of memory");
        alternative->clauses = clauses;
        memset(&clauses[alternative->clause_count], 0, sizeof(*clauses));
        alternative->clause_count++;
        if ((rc = parse_clause(&cursor, &clauses[alternative->clause_count - 1], text, err)))
            return rc;
        if (*cursor == '\0')
            return 0;
        cursor++; /* the comma */
    }
}

void filter_free(struct filter *filter)
{
    size_t i, j;

    if (!filter)
        return;
    for (i = 0; i < filter->alternative_count; i++) {
        struct filter_alternative *alternative = &filter->alternatives[i];
        for (j = 0; j < alternative->clause_count; j++) {
            struct filter_clause *clause = &alternative->clauses[j];
            free(clause->field);
            free(clause->value);
            if (clause->has_regex)
                regfree(&clause->regex);
        }
        free(alternative->clauses);
    }
    free(filter->alternatives);
    free(filter);
}

int filter_parse(const char *const *filters, size_t count, struct filter **out, struct berr *err)
{
    struct filter *filter;
    size_t i;
    int rc;

    *out = NULL;
    if (count == 0)
        return 0;
    filter = calloc(1, sizeof(*filter));
    if (!filter || !(filter->alternatives = calloc(count, sizeof(*filter->alternatives)))) {
        free(filter);
        return berr_set(err, BERR_NOMEM, "filter: out of memory");
    }
    for (i = 0; i < count; i++) {
        filter->alternative_count++;
        if ((rc = parse_alternative(filters[i] ? filters[i] : "", &filter->alternatives[i], err))) {
            filter_free(filter);
            return rc;
        }
    }
    *out = filter;
    return 0;
}

static bool clause_matches(const struct filter_clause *clause, filter_lookup lookup, void *object)
{
    const char *value = lookup(clause->field, object);

    if (!value)
        return false;
    switch (clause->comparison) {
    case FILTER_PRESENT:
        return true;
    case FILTER_EQUAL:
        return strcmp(value, clause->value) == 0;
    case FILTER_NOT_EQUAL:
        return strcmp(value, clause->value) != 0;
    case FILTER_MATCHES:
        return regexec(&clause->regex, value, 0, NULL, 0) == 0;
    }
    return false;
}

bool filter_match(const struct filter *filter, filter_lookup lookup, void *object)
{
    size_t i, j;

    if (!filter)
        return true;
    for (i = 0; i < filter->alternative_count; i++) {
        const struct filter_alternative *alternative = &filter->alternatives[i];
        bool all = true;
        for (j = 0; j < alternative->clause_count && all; j++)
            all = clause_matches(&alternative->clauses[j], lookup, object);
        if (all)
            return true;
    }
    return false;
}
