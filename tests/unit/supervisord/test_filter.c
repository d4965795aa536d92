/*
 * Unit tests of supervisord/filter: the grammar every List shares, on a
 * corpus after containerd's own filter tests so that what the two accept
 * is seen to select the same objects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "filter.h"

/* An object: field/value pairs ("labels.KEY" for labels), NULL-terminated. */
struct object {
    const char *fields[8];
};

static const struct object corpus[] = {
    {{"name", "foo", "labels.foo", "true"}},
    {{"name", "bar"}},
    {{"name", "foo", "labels.foo", "present", "labels.more complex label", "present"}},
    {{"name", "bar", "labels.bar", "true"}},
    {{"name", "fooer", "labels.more complex label with \\ and \"", "present"}},
    {{"name", "baz", "other", "too complex, yo"}},
    {{"name", "bazo", "other", "abc"}},
    {{"name", "compound", "labels.foo", "omg_asdf.asdf-qwer"}},
    {{"name", "dotted", "labels.a.b", "c", "path", "/x/y"}},
};
#define CORPUS_SIZE (sizeof(corpus) / sizeof(corpus[0]))
#define ALL         ((1u << CORPUS_SIZE) - 1)

static const char *lookup(const char *field, void *object)
{
    const struct object *entry = object;
    size_t i;

    for (i = 0; i < 8 && entry->fields[i]; i += 2) {
        if (strcmp(entry->fields[i], field) == 0)
            return entry->fields[i + 1];
    }
    return NULL;
}

/* The corpus entries the filters match, bit i for entry i. */
static unsigned matching(const char *const *filters, size_t count)
{
    struct filter *filter;
    struct berr err = {0};
    unsigned bits = 0;
    size_t i;

    assert_int_equal(filter_parse(filters, count, &filter, &err), 0);
    for (i = 0; i < CORPUS_SIZE; i++) {
        if (filter_match(filter, lookup, (void *)&corpus[i]))
            bits |= 1u << i;
    }
    filter_free(filter);
    return bits;
}

static unsigned matches(const char *text)
{
    return matching(&text, 1);
}

#define BIT(i) (1u << (i))

static void selects_like_containerd(void **state)
{
    const char *either[] = {"name==bar", "name==baz"};
    (void)state;

    assert_int_equal(matching(NULL, 0), ALL);
    assert_int_equal(matches("name"), ALL);
    assert_int_equal(matches("labels.foo"), BIT(0) | BIT(2) | BIT(7));
    assert_int_equal(matches("labels.foo,name"), BIT(0) | BIT(2) | BIT(7));
    assert_int_equal(matches("labels.foo==true"), BIT(0));
    assert_int_equal(matches("labels.foo==omg_asdf.asdf-qwer"), BIT(7));
    assert_int_equal(matches("name==bar"), BIT(1) | BIT(3));
    assert_int_equal(matches("name!=bar"), ALL & ~(BIT(1) | BIT(3)));
    assert_int_equal(matches("name==bar,labels.bar"), BIT(3));
    assert_int_equal(matches("other==\"too complex, yo\""), BIT(5));
    assert_int_equal(matches("other~=[abc]+,name!=foo"), BIT(5) | BIT(6));
    assert_int_equal(matches("other~=/[abc]+/,name!=foo"), BIT(5) | BIT(6));
    assert_int_equal(matches("other~=/[abc]{1,2}/,name!=foo"), BIT(5) | BIT(6));
    assert_int_equal(matches("other~=|[abc]{1,2}|,name!=foo"), BIT(5) | BIT(6));
    assert_int_equal(matches("other~=/[abc]{0,1}\"\\//,name!=foo"), 0);
    assert_int_equal(matches("name==bar,labels.bar==wrong"), 0);
    assert_int_equal(matches("name==foo,labels.\"more complex label\""), BIT(2));
    assert_int_equal(matches("labels.\"more complex label with \\\\ and \\\"\"==present"), BIT(4));
    assert_int_equal(matching(either, 2), BIT(1) | BIT(3) | BIT(5));
    /* A label key's parts join with dots, quoted or not. */
    assert_int_equal(matches("labels.a.b==c"), BIT(8));
    assert_int_equal(matches("labels.\"a.b\"==c"), BIT(8));
    assert_int_equal(matches("labels.\"a\".b==c"), BIT(8));
    /* Spaces around the operator. */
    assert_int_equal(matches(" name == bar "), BIT(1) | BIT(3));
}

/* containerd's rule: presence and == ask for the field, != and ~= read an
 * absent one as "". */
static void absent_fields(void **state)
{
    (void)state;

    assert_int_equal(matches("labels.foo!=true"), ALL & ~BIT(0));
    assert_int_equal(matches("labels.foo!=\"\""), BIT(0) | BIT(2) | BIT(7));
    assert_int_equal(matches("labels.foo==\"\""), 0);
    assert_int_equal(matches("other~=^$"), ALL & ~(BIT(5) | BIT(6)));
    assert_int_equal(matches("other~=."), BIT(5) | BIT(6));
    assert_int_equal(matches("nosuch"), 0);
    assert_int_equal(matches("nosuch==x"), 0);
    assert_int_equal(matches("nosuch!=x"), ALL);
}

/* Quoted strings decode Go's escapes, and only those. */
static void quotes_and_escapes(void **state)
{
    (void)state;

    assert_int_equal(matches("name==\"\\x66oo\""), BIT(0) | BIT(2));
    assert_int_equal(matches("name==\"\\146oo\""), BIT(0) | BIT(2));
    assert_int_equal(matches("name==\"\\u0066oo\""), BIT(0) | BIT(2));
    assert_int_equal(matches("name==\"\\U00000066oo\""), BIT(0) | BIT(2));
    assert_int_equal(matches("labels.\"more complex label with \\x5c and \\x22\"==present"),
                     BIT(4));
    /* The regex ^fo+$ three ways; a\.b, a backslash in the regex, as \\. */
    assert_int_equal(matches("name~=^fo+$"), BIT(0) | BIT(2));
    assert_int_equal(matches("name~=\"^fo+$\""), BIT(0) | BIT(2));
    assert_int_equal(matches("name~=/^fo+$/"), BIT(0) | BIT(2));
    assert_int_equal(matches("labels.foo~=/f\\\\.a/"), BIT(7));
    assert_int_equal(matches("labels.foo~=\"f\\\\.a\""), BIT(7));
    assert_int_equal(matches("labels.foo~=/f\\\\.t/"), 0);
    assert_int_equal(matches("path~=/^\\/x\\//"), BIT(8));
    /* After == and != a leading / or | is bare text, not a quote. */
    assert_int_equal(matches("path==/x/y"), BIT(8));
    assert_int_equal(matches("path!=|x|"), ALL);
}

static void refuses_bad_syntax(void **state)
{
    static const char *const bad[] = {
        "name=x",
        "name==\"open",
        "name~=(",
        "",
        "name~=/open",
        "name~=/a/b/",           /* text after the closing quote */
        "name==\"a\"b",          /* likewise */
        "labels.x\"y\"==1",      /* a quoted part only after a dot */
        "labels.|x|==1",         /* fields are only double-quoted */
        "name==\"\\d\"",         /* not one of Go's escapes */
        "name~=/a\\.b/",         /* likewise: the regex a\.b is /a\\.b/ */
        "name==\"\\'\"",         /* only the delimiter may be escaped */
        "name~=/\\\"/",          /* likewise */
        "name==\"\\x00\"",       /* a NUL */
        "name==\"\\u12\"",       /* too few digits */
        "name==\"\\400\"",       /* an octal byte over 255 */
        "name==\"\\U00110000\"", /* past Unicode */
        "name==\"a\nb\"",        /* a newline in a quote */
        "name==\"a\\",           /* a backslash at the end */
    };
    struct filter *filter;
    struct berr err = {0};
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        filter = NULL;
        if (filter_parse(&bad[i], 1, &filter, &err) != BERR_INVALID)
            fail_msg("accepted filter %s", bad[i]);
        assert_null(filter);
    }
    /* "name==" is an empty value: allowed (containerd wants one). */
    assert_int_equal(matches("name=="), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(selects_like_containerd),
        cmocka_unit_test(absent_fields),
        cmocka_unit_test(quotes_and_escapes),
        cmocka_unit_test(refuses_bad_syntax),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
