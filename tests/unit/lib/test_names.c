/* lib/signal_names and lib/capabilities: the spellings users write. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "capabilities.h"
#include "signal_names.h"

static void test_signal_spellings(void **state)
{
    static const struct {
        const char *text;
        int number;
    } good[] = {
        {"SIGTERM", SIGTERM}, {"TERM", SIGTERM}, {"term", SIGTERM}, {"15", SIGTERM},
        {"sigkill", SIGKILL}, {"CLD", SIGCHLD},  {"IOT", SIGABRT},  {"RTMIN", 34},
        {"SIGRTMIN+3", 37},   {"RTMAX-1", 63},   {"SIGRTMAX", 64},
    };
    static const char *bad[] = {"",   "SIG",     "TERMINATE", "0",       "65",
                                "-1", "RTMIN-1", "RTMAX+1",   "RTMIN+x", "15x"};
    int number;

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(signal_names_parse(good[i].text, &number), 0);
        assert_int_equal(number, good[i].number);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(signal_names_parse(bad[i], &number), -1);
    assert_string_equal(signal_names_short(SIGABRT), "ABRT");
    assert_string_equal(signal_names_short(SIGCHLD), "CHLD");
    assert_null(signal_names_short(40));
}

static void test_capabilities(void **state)
{
    (void)state;
    assert_int_equal(capability_number("CAP_SYS_ADMIN"), 21);
    assert_int_equal(capability_number("cap_chown"), 0);
    assert_int_equal(capability_number("SYS_ADMIN"), -1);
    assert_string_equal(capability_name(40), "CAP_CHECKPOINT_RESTORE");
    assert_null(capability_name(CAPABILITY_COUNT));
    for (int i = 0; i < CAPABILITY_COUNT; i++)
        assert_int_equal(capability_number(capability_name(i)), i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signal_spellings),
        cmocka_unit_test(test_capabilities),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
