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

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 16;
}

/* Decodes the escape after a backslash, *p just past it, appending its
 * bytes to out. Go's escapes, as containerd's unquote takes them: the
 * delimiter is the only quote that may be escaped, and anything else (\d,
 * \.) is illegal. A NUL could not be compared, so it is refused too. */
static bool decode_escape(const char **p, char quote, char *out, size_t *length)
{
    static const char simple[][2] = {{'a', '\a'}, {'b', '\b'}, {'f', '\f'}, {'n', '\n'},
                                     {'r', '\r'}, {'t', '\t'}, {'v', '\v'}, {'\\', '\\'}};
    char c = **p;
    unsigned long code = 0;
    int digits, base = 16, i;
    size_t k;

    if (c == '\0')
        return false;
    (*p)++;
    if (c == quote) {
        out[(*length)++] = c;
        return true;
    }
    for (k = 0; k < sizeof(simple) / sizeof(simple[0]); k++) {
        if (c == simple[k][0]) {
            out[(*length)++] = simple[k][1];
            return true;
        }
    }
    if (c == 'x') {
        digits = 2;
    } else if (c == 'u') {
        digits = 4;
    } else if (c == 'U') {
        digits = 8;
    } else if (c >= '0' && c <= '7') {
        (*p)--; /* the first of three octal digits */
        digits = 3;
        base = 8;
    } else {
        return false;
    }
    for (i = 0; i < digits; i++) {
        int digit = digit_value(**p);
        if (digit >= base)
            return false;
        code = code * (unsigned long)base + (unsigned long)digit;
        (*p)++;
    }
    if (code == 0)
        return false;
    if (c == 'x' || base == 8) { /* a byte, UTF-8 or not */
        if (code > 0xff)
            return false;
        out[(*length)++] = (char)code;
        return true;
    }
    if (code > 0x10ffff)
        return false;
    if (code >= 0xd800 && code <= 0xdfff)
        code = 0xfffd; /* as Go encodes a surrogate */
    if (code < 0x80) {
        out[(*length)++] = (char)code;
    } else if (code < 0x800) {
        out[(*length)++] = (char)(0xc0 | (code >> 6));
        out[(*length)++] = (char)(0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
        out[(*length)++] = (char)(0xe0 | (code >> 12));
        out[(*length)++] = (char)(0x80 | ((code >> 6) & 0x3f));
        out[(*length)++] = (char)(0x80 | (code & 0x3f));
    } else {
        out[(*length)++] = (char)(0xf0 | (code >> 18));
        out[(*length)++] = (char)(0x80 | ((code >> 12) & 0x3f));
        out[(*length)++] = (char)(0x80 | ((code >> 6) & 0x3f));
        out[(*length)++] = (char)(0x80 | (code & 0x3f));
    }
    return true;
}

/* Reads the string quoted by the delimiter at *cursor, appending it to out
 * (never longer than the quoted text: no escape decodes to more bytes than
 * it is spelled with). */
static int read_quoted(const char **cursor, char *out, size_t *length, const char *filter,
                       struct berr *err)
{
    char quote = **cursor;
    const char *p = *cursor + 1;

    while (*p != quote) {
        if (*p == '\0' || *p == '\n')
            return berr_set(err, BERR_INVALID, "filter %s: unterminated %c quote", filter, quote);
        if (*p != '\\') {
            out[(*length)++] = *p++;
            continue;
        }
        p++;
        if (!decode_escape(&p, quote, out, length))
            return berr_set(err, BERR_INVALID,
                            "filter %s: illegal escape in a %c quote (a backslash is \\\\)", filter,
                            quote);
    }
    *cursor = p + 1;
    return 0;
}

/* Reads FIELD: runs of field characters and double-quoted parts, a quote
 * only after a dot, into one dotted path (labels."a b" is "labels.a b", and
 * labels."a.b" is labels.a.b, as containerd joins a label key's parts). */
static int parse_field(const char **cursor, char **out, const char *filter, struct berr *err)
{
    const char *p = *cursor;
    char *field = malloc(strlen(p) + 1);
    size_t length = 0;
    int rc;

    if (!field)
        return berr_set(err, BERR_NOMEM, "filter: out of memory");
    for (;;) {
        if (*p == '"') {
            if ((rc = read_quoted(&p, field, &length, filter, err))) {
                free(field);
                return rc;
            }
            if (*p != '.')
                break;
            field[length++] = *p++;
            continue;
        }
        if (!field_character(*p))
            break;
        while (field_character(*p))
            field[length++] = *p++;
        if (p[-1] != '.')
            break;
    }
    if (length == 0) {
        free(field);
        return berr_set(err, BERR_INVALID, "filter %s: expected a field name", filter);
    }
    field[length] = '\0';
    *cursor = p;
    *out = field;
    return 0;
}

/* Reads a VALUE: a quoted string or bare text up to a comma. A regex may
 * also be quoted /like this/ or |like this|, so a ~= value starting with
 * either is a quote (containerd's rule); after == and != they are bare
 * text, which containerd would refuse (topic==/tasks/exit). */
static int parse_value(const char **cursor, enum filter_comparison comparison, char **out,
                       const char *filter, struct berr *err)
{
    const char *start = *cursor;
    size_t length = 0;
    char *value;
    int rc;

    if (*start == '"' || (comparison == FILTER_MATCHES && (*start == '/' || *start == '|'))) {
        value = malloc(strlen(start) + 1);
        if (!value)
            return berr_set(err, BERR_NOMEM, "filter: out of memory");
        if ((rc = read_quoted(cursor, value, &length, filter, err))) {
            free(value);
            return rc;
        }
        value[length] = '\0';
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
    int rc;

    skip_spaces(cursor);
    if ((rc = parse_field(cursor, &clause->field, filter, err)))
        return rc;
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
    if ((rc = parse_value(cursor, clause->comparison, &clause->value, filter, err)))
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

    /* containerd's rule: only presence and == ask whether the field is there;
     * != and ~= compare an absent field as "". */
    switch (clause->comparison) {
    case FILTER_PRESENT:
        return value != NULL;
    case FILTER_EQUAL:
        return value && strcmp(value, clause->value) == 0;
    case FILTER_NOT_EQUAL:
        return strcmp(value ? value : "", clause->value) != 0;
    case FILTER_MATCHES:
        return regexec(&clause->regex, value ? value : "", 0, NULL, 0) == 0;
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
