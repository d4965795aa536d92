/* Docker's filters argument: both JSON spellings, the match rules, and the
 * event filter of /events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "docker_filters.h"

static struct docker_filters *parse(const char *json)
{
    struct docker_filters *filters = NULL;
    struct berr err;

    if (docker_filters_parse(json, &filters, &err) != 0)
        fail_msg("refused %s: %s", json, err.message);
    return filters;
}

static void test_spellings(void **state)
{
    const char *const *values;
    struct docker_filters *filters;
    size_t count;

    (void)state;
    filters = parse("{\"label\":{\"a=b\":true,\"c\":true},\"dangling\":[\"true\"]}");
    values = docker_filters_values(filters, "label", &count);
    assert_int_equal(count, 2);
    assert_string_equal(values[0], "a=b");
    assert_string_equal(values[1], "c");
    values = docker_filters_values(filters, "dangling", &count);
    assert_int_equal(count, 1);
    assert_string_equal(values[0], "true");
    assert_false(docker_filters_contains(filters, "before"));
    docker_filters_free(filters);

    filters = parse(NULL);
    assert_true(docker_filters_exact(filters, "type", "image"));
    docker_filters_free(filters);
    filters = parse("");
    assert_false(docker_filters_contains(filters, "type"));
    docker_filters_free(filters);
    /* A value mapped to false is not a value. */
    filters = parse("{\"type\":{\"image\":false}}");
    assert_true(docker_filters_contains(filters, "type"));
    assert_true(docker_filters_exact(filters, "type", "container"));
    docker_filters_free(filters);
}

static void test_refusals(void **state)
{
    static const char *const bad[] = {"[]", "{\"a\":1}", "{\"a\":[1]}", "{", "\"x\""};
    struct docker_filters *filters;
    struct berr err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (docker_filters_parse(bad[i], &filters, &err) == 0)
            fail_msg("accepted %s", bad[i]);
        assert_int_equal(err.code, BERR_INVALID);
    }
    filters = parse("{\"bogus\":[\"x\"]}");
    static const char *const accepted[] = {"label", "dangling", NULL};
    assert_int_equal(docker_filters_validate(filters, accepted, &err), BERR_INVALID);
    assert_string_equal(err.message, "invalid filter 'bogus'");
    docker_filters_free(filters);
}

static void test_matching(void **state)
{
    static const char *const labels[] = {"a", "b", "c", "", NULL};
    struct docker_filters *filters;
    struct berr err;
    bool value;

    (void)state;
    filters = parse("{\"name\":[\"web\",\"db\"],\"label\":[\"a=b\",\"c\"]}");
    assert_true(docker_filters_exact(filters, "name", "db"));
    assert_false(docker_filters_exact(filters, "name", "dbx"));
    assert_true(docker_filters_fuzzy(filters, "name", "dbx"));
    assert_false(docker_filters_fuzzy(filters, "name", "xdb"));
    assert_true(docker_filters_match_pairs(filters, "label", labels));
    docker_filters_free(filters);

    filters = parse("{\"label\":[\"a=x\"]}");
    assert_false(docker_filters_match_pairs(filters, "label", labels));
    assert_false(docker_filters_match_pairs(filters, "label", NULL));
    docker_filters_free(filters);

    filters = parse("{\"dangling\":[\"1\"],\"x\":[\"maybe\"]}");
    assert_int_equal(docker_filters_bool(filters, "dangling", false, &value, &err), 0);
    assert_true(value);
    assert_int_equal(docker_filters_bool(filters, "absent", true, &value, &err), 0);
    assert_true(value);
    assert_int_equal(docker_filters_bool(filters, "x", false, &value, &err), BERR_INVALID);
    docker_filters_free(filters);
}

static struct engine_event *event(const char *type, const char *action, const char *id,
                                  const char *const *attributes)
{
    static struct engine_event storage;
    size_t count = 0;

    memset(&storage, 0, sizeof(storage));
    storage.type = (char *)type;
    storage.action = (char *)action;
    storage.actor_id = (char *)id;
    while (attributes && attributes[count])
        count++;
    storage.attributes = (char **)attributes;
    return &storage;
}

static bool matches(const char *json, const struct engine_event *event)
{
    struct docker_filters *filters = parse(json);
    bool result = docker_filters_match_event(filters, event);

    docker_filters_free(filters);
    return result;
}

static void test_events(void **state)
{
    static const char *const image_attributes[] = {"name", "busybox:latest", "maintainer", "me",
                                                   NULL};
    static const char *const container_attributes[] = {"name", "web", "image", "busybox", NULL};
    const struct engine_event *tag;

    (void)state;
    tag = event("image", "tag", "sha256:0123abcd", image_attributes);
    assert_true(matches("{}", tag));
    assert_true(matches("{\"type\":[\"image\"]}", tag));
    assert_false(matches("{\"type\":[\"container\"]}", tag));
    assert_true(matches("{\"event\":[\"untag\",\"tag\"]}", tag));
    assert_false(matches("{\"event\":[\"ta\"]}", tag));
    assert_true(matches("{\"image\":[\"busybox\"]}", tag));
    assert_true(matches("{\"image\":[\"busybox:latest\"]}", tag));
    assert_true(matches("{\"image\":[\"sha256:0123abcd\"]}", tag));
    assert_false(matches("{\"image\":[\"alpine\"]}", tag));
    assert_true(matches("{\"label\":[\"maintainer=me\"]}", tag));
    assert_false(matches("{\"label\":[\"maintainer=you\"]}", tag));
    assert_false(matches("{\"container\":[\"web\"]}", tag));
    assert_true(matches("{\"scope\":[\"local\"]}", tag));
    assert_false(matches("{\"scope\":[\"swarm\"]}", tag));

    const struct engine_event *start =
        event("container", "exec_start: sh -c true", "abcdef0123", container_attributes);
    assert_true(matches("{\"container\":[\"web\"]}", start));
    assert_true(matches("{\"container\":[\"abc\"]}", start)); /* an ID prefix */
    assert_false(matches("{\"container\":[\"db\"]}", start));
    assert_true(matches("{\"image\":[\"busybox\"]}", start));
    assert_true(matches("{\"event\":[\"exec_start\"]}", start)); /* fuzzy for exec_start */
    assert_false(matches("{\"event\":[\"start\"]}", start));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spellings),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_matching),
        cmocka_unit_test(test_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
