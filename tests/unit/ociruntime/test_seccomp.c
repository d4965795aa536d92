/*
 * Unit tests of ociruntime/seccomp: the parser on bad input (each error names
 * its field), the compiler on Docker-like profiles, and the compiled filters
 * at work. A filter cannot be removed once loaded, so each one is loaded in a
 * forked child that tries system calls and reports through its exit status.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arena.h"
#include "json.h"
#include "seccomp.h"

/* ---- helpers ---- */

/* Test JSON is written with single quotes, for legibility. */
static yajl_val parse_json(const char *text)
{
    char *copy = strdup(text);
    struct berr err;
    yajl_val tree = NULL;
    char *c;

    assert_non_null(copy);
    for (c = copy; *c; c++)
        if (*c == '\'')
            *c = '"';
    if (json_parse(copy, &tree, &err) != 0)
        fail_msg("test JSON does not parse: %s: %s", err.message, copy);
    free(copy);
    return tree;
}

/* Parses text as a linux.seccomp object; returns the code, fills *out on success. */
static int parse_profile(struct arena *arena, const char *text, struct seccomp_spec **out,
                         struct berr *err)
{
    yajl_val tree = parse_json(text);
    int rc;

    berr_clear(err);
    rc = seccomp_spec_parse(arena, tree, out, err);
    yajl_tree_free(tree); /* the spec must not point into the tree */
    return rc;
}

static void compile_profile(struct arena *arena, const char *text, struct seccomp_program *program)
{
    struct seccomp_spec *spec = NULL;
    struct berr err;

    if (parse_profile(arena, text, &spec, &err) != 0)
        fail_msg("parse: %s", err.message);
    memset(program, 0, sizeof(*program));
    if (seccomp_compile(spec, arena, program, &err) != 0)
        fail_msg("compile: %s", err.message);
    assert_non_null(program->filter);
    assert_true(program->length > 0);
}

/* Child side: exit_group directly, so no libc or sanitizer exit code runs
 * under the filter. */
static void __attribute__((noreturn)) child_exit(int status)
{
    syscall(SYS_exit_group, status);
    _exit(status);
}

#define CHILD_NO_NEW_PRIVS_FAILED 100
#define CHILD_LOAD_FAILED         101
#define CHILD_SIGNALED            200

/* Runs body in a child under the program. Returns body's status (0: every
 * check held, N: check N failed), or CHILD_SIGNALED + the signal number. */
static int run_filtered(const struct seccomp_program *program, int (*body)(void))
{
    int status;
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            child_exit(CHILD_NO_NEW_PRIVS_FAILED);
        if (seccomp_load_program(program) != 0)
            child_exit(CHILD_LOAD_FAILED);
        child_exit(body());
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        return CHILD_SIGNALED + WTERMSIG(status);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* A system call's result as 0 or the errno it failed with. */
static int errno_of(long result)
{
    return result < 0 ? errno : 0;
}

/* ---- parsing ---- */

static void minimal_profile_parses(void **state)
{
    struct arena arena;
    struct seccomp_spec *spec = NULL;
    struct berr err;
    (void)state;

    arena_init(&arena);
    assert_int_equal(parse_profile(&arena, "{'defaultAction': 'SCMP_ACT_ALLOW'}", &spec, &err), 0);
    assert_non_null(spec);
    assert_string_equal(seccomp_action_name(spec->default_action), "SCMP_ACT_ALLOW");
    assert_false(spec->has_default_errno_ret);
    assert_null(spec->architectures);
    assert_int_equal(spec->filter_flags, 0);
    assert_int_equal(spec->rule_count, 0);
    arena_release(&arena);
}

static void every_field_is_kept(void **state)
{
    struct arena arena;
    struct seccomp_spec *spec = NULL;
    struct seccomp_spec_rule *rule;
    struct berr err;
    (void)state;

    arena_init(&arena);
    assert_int_equal(
        parse_profile(&arena,
                      "{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 38,"
                      " 'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],"
                      " 'flags': ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG'],"
                      " 'listenerPath': '',"
                      " 'syscalls': ["
                      "  {'names': ['read', 'write'], 'action': 'SCMP_ACT_ALLOW'},"
                      "  {'names': ['clone'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1,"
                      "   'args': [{'index': 0, 'value': 2114060288, 'valueTwo': 0,"
                      "             'op': 'SCMP_CMP_MASKED_EQ'},"
                      "            {'index': 5, 'value': 18446744073709551615,"
                      "             'op': 'SCMP_CMP_NE'}]},"
                      "  {'names': ['ptrace'], 'action': 'SCMP_ACT_KILL_PROCESS', 'args': null}]}",
                      &spec, &err),
        0);
    assert_string_equal(seccomp_action_name(spec->default_action), "SCMP_ACT_ERRNO");
    assert_true(spec->has_default_errno_ret);
    assert_int_equal(spec->default_errno_ret, 38);
    assert_string_equal(spec->architectures[0], "SCMP_ARCH_X86_64");
    assert_string_equal(spec->architectures[1], "SCMP_ARCH_X86");
    assert_null(spec->architectures[2]);
    assert_int_equal(spec->filter_flags, 1 | 2); /* TSYNC | LOG */
    assert_int_equal(spec->rule_count, 3);

    rule = &spec->rules[0];
    assert_string_equal(rule->names[0], "read");
    assert_string_equal(rule->names[1], "write");
    assert_null(rule->names[2]);
    assert_string_equal(seccomp_action_name(rule->action), "SCMP_ACT_ALLOW");
    assert_false(rule->has_errno_ret);
    assert_int_equal(rule->argument_count, 0);

    rule = &spec->rules[1];
    assert_true(rule->has_errno_ret);
    assert_int_equal(rule->errno_ret, 1);
    assert_int_equal(rule->argument_count, 2);
    assert_int_equal(rule->arguments[0].index, 0);
    assert_true(rule->arguments[0].value == 2114060288);
    assert_true(rule->arguments[0].value_two == 0);
    assert_int_equal(rule->arguments[0].op, SECCOMP_OP_MASKED_EQUAL);
    assert_int_equal(rule->arguments[1].index, 5);
    assert_true(rule->arguments[1].value == UINT64_MAX);
    assert_int_equal(rule->arguments[1].op, SECCOMP_OP_NOT_EQUAL);

    rule = &spec->rules[2];
    assert_string_equal(seccomp_action_name(rule->action), "SCMP_ACT_KILL_PROCESS");
    assert_int_equal(rule->argument_count, 0);
    arena_release(&arena);
}

struct bad_profile {
    const char *text;
    enum berr_code code;
    const char *message; /* the whole message */
};

#define RULE_PREFIX                                                                                \
    "{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': ["                                            \
    "{'names': ['a'], 'action': 'SCMP_ACT_ALLOW'}, {'names': ['b'], 'action': 'SCMP_ACT_ALLOW'},"  \
    "{'names': ['c'], 'action': 'SCMP_ACT_ALLOW'}, "
#define ARGUMENT_RULE(argument)                                                                    \
    RULE_PREFIX "{'names': ['d'], 'action': 'SCMP_ACT_ALLOW', 'args': [" argument "]}]}"

static const struct bad_profile bad_profiles[] = {
    /* the object itself */
    {"[]", BERR_INVALID, "must be an object, not an array"},
    {"{}", BERR_INVALID, "defaultAction is required"},
    {"{'defaultAction': 5}", BERR_INVALID, "defaultAction must be a string, not a number"},
    {"{'defaultAction': 'SCMP_ACT_FOO'}", BERR_INVALID,
     "defaultAction: unknown action SCMP_ACT_FOO"},
    {"{'defaultAction': 'SCMP_ACT_NOTIFY'}", BERR_UNSUPPORTED,
     "defaultAction: SCMP_ACT_NOTIFY is not supported"},
    {"{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/run/agent.sock'}", BERR_UNSUPPORTED,
     "listenerPath: seccomp notify listeners are not supported"},
    {"{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerMetadata': 'x'}", BERR_UNSUPPORTED,
     "listenerMetadata: seccomp notify listeners are not supported"},
    {"{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': 3}", BERR_INVALID,
     "\"listenerPath\" must be a string, not a number"},
    /* defaultErrnoRet */
    {"{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 'EPERM'}", BERR_INVALID,
     "\"defaultErrnoRet\" must be an unsigned integer, not a string"},
    {"{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': -1}", BERR_INVALID,
     "\"defaultErrnoRet\" must be an unsigned integer, not -1"},
    {"{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 65536}", BERR_INVALID,
     "defaultErrnoRet: 65536 is above 65535"},
    {"{'defaultAction': 'SCMP_ACT_ALLOW', 'defaultErrnoRet': 1}", BERR_INVALID,
     "defaultErrnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one"},
    /* architectures */
    {"{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': 'SCMP_ARCH_X86'}", BERR_INVALID,
     "\"architectures\" must be an array, not a string"},
    {"{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['SCMP_ARCH_X86', 'SCMP_ARCH_VAX']}",
     BERR_INVALID, "architectures[1]: unknown architecture SCMP_ARCH_VAX"},
    {"{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': [64]}", BERR_INVALID,
     "architectures[0] must be a string, not a number"},
    /* flags */
    {"{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_FOO']}", BERR_INVALID,
     "flags[0]: unknown flag SECCOMP_FILTER_FLAG_FOO"},
    {"{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': [true]}", BERR_INVALID,
     "flags[0] must be a string, not a boolean"},
    {"{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': {}}", BERR_INVALID,
     "\"flags\" must be an array, not an object"},
    /* syscalls */
    {"{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': {}}", BERR_INVALID,
     "\"syscalls\" must be an array, not an object"},
    {"{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ['read']}", BERR_INVALID,
     "syscalls[0] must be an object, not a string"},
    {"{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'action': 'SCMP_ACT_ERRNO'}]}",
     BERR_INVALID, "syscalls[0].names is required"},
    {"{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': 'mkdir',"
     " 'action': 'SCMP_ACT_ERRNO'}]}",
     BERR_INVALID, "syscalls[0].names must be an array, not a string"},
    {"{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': [], 'action': 'SCMP_ACT_ERRNO'}]}",
     BERR_INVALID, "syscalls[0].names must not be empty"},
    {"{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir', 83],"
     " 'action': 'SCMP_ACT_ERRNO'}]}",
     BERR_INVALID, "syscalls[0].names[1] must be a string, not a number"},
    {RULE_PREFIX "{'names': ['d']}]}", BERR_INVALID, "syscalls[3].action is required"},
    {RULE_PREFIX "{'names': ['d'], 'action': 'SCMP_ACT_DENY'}]}", BERR_INVALID,
     "syscalls[3].action: unknown action SCMP_ACT_DENY"},
    {RULE_PREFIX "{'names': ['d'], 'action': 'SCMP_ACT_NOTIFY'}]}", BERR_UNSUPPORTED,
     "syscalls[3].action: SCMP_ACT_NOTIFY is not supported"},
    {RULE_PREFIX "{'names': ['d'], 'action': 'SCMP_ACT_ALLOW', 'errnoRet': 1}]}", BERR_INVALID,
     "syscalls[3].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one"},
    {RULE_PREFIX "{'names': ['d'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1.5}]}", BERR_INVALID,
     "\"syscalls[3].errnoRet\" must be an unsigned integer, not 1.5"},
    {RULE_PREFIX "{'names': ['d'], 'action': 'SCMP_ACT_TRACE', 'errnoRet': 100000}]}", BERR_INVALID,
     "syscalls[3].errnoRet: 100000 is above 65535"},
    /* args */
    {RULE_PREFIX "{'names': ['d'], 'action': 'SCMP_ACT_ALLOW', 'args': {}}]}", BERR_INVALID,
     "syscalls[3].args must be an array, not an object"},
    {ARGUMENT_RULE("7"), BERR_INVALID, "syscalls[3].args[0] must be an object, not a number"},
    {ARGUMENT_RULE("{'value': 1, 'op': 'SCMP_CMP_EQ'}"), BERR_INVALID,
     "syscalls[3].args[0].index is required"},
    {ARGUMENT_RULE("{'index': 6, 'value': 1, 'op': 'SCMP_CMP_EQ'}"), BERR_INVALID,
     "syscalls[3].args[0].index: 6 is not a system call argument (0 to 5)"},
    {ARGUMENT_RULE("{'index': '0', 'value': 1, 'op': 'SCMP_CMP_EQ'}"), BERR_INVALID,
     "\"syscalls[3].args[0].index\" must be an unsigned integer, not a string"},
    {ARGUMENT_RULE("{'index': 0, 'op': 'SCMP_CMP_EQ'}"), BERR_INVALID,
     "syscalls[3].args[0].value is required"},
    {ARGUMENT_RULE("{'index': 0, 'value': -1, 'op': 'SCMP_CMP_EQ'}"), BERR_INVALID,
     "\"syscalls[3].args[0].value\" must be an unsigned integer, not -1"},
    {ARGUMENT_RULE("{'index': 0, 'value': 1, 'op': 'SCMP_CMP_EQ'},"
                   "{'index': 1, 'value': 1, 'valueTwo': [], 'op': 'SCMP_CMP_EQ'}"),
     BERR_INVALID, "\"syscalls[3].args[1].valueTwo\" must be an unsigned integer, not an array"},
    {ARGUMENT_RULE("{'index': 0, 'value': 1}"), BERR_INVALID, "syscalls[3].args[0].op is required"},
    {ARGUMENT_RULE("{'index': 0, 'value': 1, 'op': 3}"), BERR_INVALID,
     "syscalls[3].args[0].op must be a string, not a number"},
    {ARGUMENT_RULE("{'index': 0, 'value': 1, 'op': 'SCMP_CMP_FOO'}"), BERR_INVALID,
     "syscalls[3].args[0].op: unknown operator SCMP_CMP_FOO"},
};

static void bad_profiles_are_refused_naming_the_field(void **state)
{
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(bad_profiles) / sizeof(bad_profiles[0]); i++) {
        struct arena arena;
        struct seccomp_spec *spec = NULL;
        struct berr err;
        int rc;

        arena_init(&arena);
        rc = parse_profile(&arena, bad_profiles[i].text, &spec, &err);
        if (rc != (int)bad_profiles[i].code || strcmp(err.message, bad_profiles[i].message) != 0)
            fail_msg("case %zu: expected %s \"%s\", got %s \"%s\"", i,
                     berr_code_name(bad_profiles[i].code), bad_profiles[i].message,
                     berr_code_name(rc), err.message);
        assert_null(spec);
        arena_release(&arena);
    }
}

/* ---- compiling ---- */

/* Docker's default profile in miniature: deny by default, an allow list, a
 * few allowed values for one argument, and a custom errno. (sigaltstack is
 * there for AddressSanitizer, which calls it before a call that does not
 * return; Docker allows it too.) */
static const char docker_like_profile[] =
    "{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 38,"
    " 'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],"
    " 'syscalls': ["
    "  {'names': ['read', 'write', 'exit', 'exit_group', 'rt_sigreturn', 'rt_sigprocmask',"
    "             'rt_sigaction', 'brk', 'mmap', 'munmap', 'mprotect', 'futex', 'getpid',"
    "             'gettid', 'sched_yield', 'close', 'sigaltstack', 'socketcall', '_llseek',"
    "             'a_call_from_the_future'],"
    "   'action': 'SCMP_ACT_ALLOW'},"
    /* Docker's personality rules: one value per rule. */
    "  {'names': ['personality'], 'action': 'SCMP_ACT_ALLOW',"
    "   'args': [{'index': 0, 'value': 0, 'op': 'SCMP_CMP_EQ'}]},"
    "  {'names': ['personality'], 'action': 'SCMP_ACT_ALLOW',"
    "   'args': [{'index': 0, 'value': 4294967295, 'op': 'SCMP_CMP_EQ'}]},"
    /* Two values for one argument in one rule: either is allowed. */
    "  {'names': ['getpriority'], 'action': 'SCMP_ACT_ALLOW',"
    "   'args': [{'index': 0, 'value': 0, 'op': 'SCMP_CMP_EQ'},"
    "            {'index': 0, 'value': 1, 'op': 'SCMP_CMP_EQ'}]},"
    /* Conditions on different arguments: all must hold. */
    "  {'names': ['ioprio_get'], 'action': 'SCMP_ACT_ALLOW',"
    "   'args': [{'index': 0, 'value': 1, 'op': 'SCMP_CMP_EQ'},"
    "            {'index': 1, 'value': 0, 'op': 'SCMP_CMP_EQ'}]},"
    /* Allowed when no bit of 0700 is set in the mask. */
    "  {'names': ['umask'], 'action': 'SCMP_ACT_ALLOW',"
    "   'args': [{'index': 0, 'value': 448, 'valueTwo': 0, 'op': 'SCMP_CMP_MASKED_EQ'}]},"
    "  {'names': ['getuid', 'getgid'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 18},"
    /* Same as the default: dropped, since libseccomp refuses it. */
    "  {'names': ['getppid'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 38},"
    /* ERRNO without errnoRet: EPERM. */
    "  {'names': ['getsid'], 'action': 'SCMP_ACT_ERRNO'}"
    " ]}";

static void docker_like_profile_compiles(void **state)
{
    struct arena arena;
    struct seccomp_program program;
    (void)state;

    arena_init(&arena);
    compile_profile(&arena, docker_like_profile, &program);
    assert_int_equal(program.flags, 0);
    arena_release(&arena);
}

static int docker_like_checks(void)
{
    if (syscall(SYS_getpid) != getpid())
        return 1;
    /* Not listed: the default errno, ENOSYS here. */
    if (errno_of(syscall(SYS_getppid)) != ENOSYS)
        return 2;
    if (errno_of(syscall(SYS_sched_getscheduler, 0)) != ENOSYS)
        return 3;
    /* Listed with errnoRet 18 (EXDEV), and with no errnoRet (EPERM). */
    if (errno_of(syscall(SYS_getuid)) != EXDEV || errno_of(syscall(SYS_getgid)) != EXDEV)
        return 4;
    if (errno_of(syscall(SYS_getsid, 0)) != EPERM)
        return 5;
    /* personality: 0xffffffff (query) and 0 allowed, anything else not. */
    if (errno_of(syscall(SYS_personality, 0xffffffffUL)) != 0)
        return 6;
    if (errno_of(syscall(SYS_personality, PER_LINUX32)) != ENOSYS)
        return 7;
    /* getpriority: PRIO_PROCESS or PRIO_PGRP, not PRIO_USER. */
    if (errno_of(syscall(SYS_getpriority, PRIO_PROCESS, 0)) != 0 ||
        errno_of(syscall(SYS_getpriority, PRIO_PGRP, 0)) != 0)
        return 8;
    if (errno_of(syscall(SYS_getpriority, PRIO_USER, 0)) != ENOSYS)
        return 9;
    /* ioprio_get: (IOPRIO_WHO_PROCESS, 0) only. */
    if (errno_of(syscall(SYS_ioprio_get, 1, 0)) != 0)
        return 10;
    if (errno_of(syscall(SYS_ioprio_get, 1, getpid())) != ENOSYS)
        return 11;
    /* umask: 022 passes the mask, 077 does too, 0700 does not. */
    if (errno_of(syscall(SYS_umask, 022)) != 0 || errno_of(syscall(SYS_umask, 077)) != 0)
        return 12;
    if (errno_of(syscall(SYS_umask, 0700)) != ENOSYS)
        return 13;
    return 0;
}

static void docker_like_profile_filters_system_calls(void **state)
{
    struct arena arena;
    struct seccomp_program program;
    (void)state;

    arena_init(&arena);
    compile_profile(&arena, docker_like_profile, &program);
    assert_int_equal(run_filtered(&program, docker_like_checks), 0);
    arena_release(&arena);
}

static char denied_directory[64];

static int mkdir_checks(void)
{
    if (errno_of(mkdir(denied_directory, 0755)) != EPERM)
        return 1;
    if (errno_of(syscall(SYS_mkdirat, AT_FDCWD, denied_directory, 0755)) != EPERM)
        return 2;
    if (syscall(SYS_getpid) != getpid())
        return 3;
    if (errno_of(syscall(SYS_getppid)) != 0)
        return 4;
    return 0;
}

static void allow_by_default_denies_mkdir(void **state)
{
    struct arena arena;
    struct seccomp_program program;
    struct stat info;
    (void)state;

    arena_init(&arena);
    compile_profile(&arena,
                    "{'defaultAction': 'SCMP_ACT_ALLOW',"
                    " 'syscalls': [{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_ERRNO'}]}",
                    &program);
    snprintf(denied_directory, sizeof(denied_directory), "/tmp/berth-seccomp-test-%d",
             (int)getpid());
    rmdir(denied_directory);
    assert_int_equal(run_filtered(&program, mkdir_checks), 0);
    assert_int_equal(stat(denied_directory, &info), -1);
    arena_release(&arena);
}

static int getppid_once(void)
{
    syscall(SYS_getppid);
    return 0;
}

static void kill_process_action_kills(void **state)
{
    struct arena arena;
    struct seccomp_program program;
    (void)state;

    arena_init(&arena);
    compile_profile(&arena,
                    "{'defaultAction': 'SCMP_ACT_ALLOW',"
                    " 'syscalls': [{'names': ['getppid'], 'action': 'SCMP_ACT_KILL_PROCESS'}]}",
                    &program);
    assert_int_equal(run_filtered(&program, getppid_once), CHILD_SIGNALED + SIGSYS);
    arena_release(&arena);
}

static int nothing(void)
{
    return 0;
}

static void flags_reach_the_program(void **state)
{
    struct arena arena;
    struct seccomp_program program;
    (void)state;

    arena_init(&arena);
    compile_profile(&arena,
                    "{'defaultAction': 'SCMP_ACT_ALLOW',"
                    " 'flags': ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG',"
                    "           'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],"
                    " 'syscalls': [{'names': ['getppid'], 'action': 'SCMP_ACT_LOG'}]}",
                    &program);
    /* TSYNC | LOG; WAIT_KILLABLE_RECV has no listener to act on and is dropped. */
    assert_int_equal(program.flags, 1 | 2);
    assert_int_equal(run_filtered(&program, nothing), 0);
    arena_release(&arena);
}

/* ---- features ---- */

static yajl_val features_document(void)
{
    struct json_writer writer;
    struct berr err;
    const char *text;
    size_t length;
    yajl_val tree = NULL;

    assert_int_equal(json_writer_init(&writer, false, &err), 0);
    json_object_begin(&writer);
    assert_int_equal(seccomp_features(&writer), 0);
    json_object_end(&writer);
    assert_int_equal(json_writer_result(&writer, &text, &length, &err), 0);
    assert_int_equal(json_parse(text, &tree, &err), 0);
    json_writer_free(&writer);
    return tree;
}

static bool array_has(yajl_val array, const char *text)
{
    size_t i;

    for (i = 0; array && i < array->u.array.len; i++)
        if (YAJL_IS_STRING(array->u.array.values[i]) &&
            strcmp(array->u.array.values[i]->u.string, text) == 0)
            return true;
    return false;
}

static void features_describe_this_build(void **state)
{
    yajl_val tree = features_document();
    yajl_val seccomp = json_get(tree, "seccomp");
    yajl_val operators = json_get(seccomp, "operators");
    yajl_val known = json_get(seccomp, "knownFlags");
    (void)state;

    assert_non_null(seccomp);
    assert_true(YAJL_IS_TRUE(json_get(seccomp, "enabled")));
    assert_true(array_has(json_get(seccomp, "actions"), "SCMP_ACT_ERRNO"));
    assert_true(array_has(json_get(seccomp, "actions"), "SCMP_ACT_ALLOW"));
    assert_false(array_has(json_get(seccomp, "actions"), "SCMP_ACT_NOTIFY"));
    assert_int_equal(operators->u.array.len, 7);
    assert_true(array_has(operators, "SCMP_CMP_MASKED_EQ"));
#if defined(__x86_64__)
    assert_true(array_has(json_get(seccomp, "archs"), "SCMP_ARCH_X86_64"));
#elif defined(__aarch64__)
    assert_true(array_has(json_get(seccomp, "archs"), "SCMP_ARCH_AARCH64"));
#endif
    assert_int_equal(known->u.array.len, 4);
    assert_true(array_has(json_get(seccomp, "supportedFlags"), "SECCOMP_FILTER_FLAG_TSYNC"));
    assert_false(
        array_has(json_get(seccomp, "supportedFlags"), "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"));
    yajl_tree_free(tree);
}

/* The parser knows every spec architecture; the compiler takes exactly those
 * the features list. */
static void architectures_compile_as_features_say(void **state)
{
    static const char *const names[] = {"SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_SH", "SCMP_ARCH_X86",
                                        "SCMP_ARCH_AARCH64"};
    yajl_val tree = features_document();
    yajl_val archs = json_get(json_get(tree, "seccomp"), "archs");
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct arena arena;
        struct seccomp_spec *spec = NULL;
        struct seccomp_program program;
        struct berr err;
        char text[256];
        int rc;

        arena_init(&arena);
        snprintf(text, sizeof(text), "{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['%s']}",
                 names[i]);
        assert_int_equal(parse_profile(&arena, text, &spec, &err), 0);
        rc = seccomp_compile(spec, &arena, &program, &err);
        if (array_has(archs, names[i])) {
            assert_int_equal(rc, 0);
        } else {
            assert_int_equal(rc, BERR_UNSUPPORTED);
            assert_non_null(strstr(err.message, names[i]));
        }
        arena_release(&arena);
    }
    yajl_tree_free(tree);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(minimal_profile_parses),
        cmocka_unit_test(every_field_is_kept),
        cmocka_unit_test(bad_profiles_are_refused_naming_the_field),
        cmocka_unit_test(docker_like_profile_compiles),
        cmocka_unit_test(docker_like_profile_filters_system_calls),
        cmocka_unit_test(allow_by_default_denies_mkdir),
        cmocka_unit_test(kill_process_action_kills),
        cmocka_unit_test(flags_reach_the_program),
        cmocka_unit_test(features_describe_this_build),
        cmocka_unit_test(architectures_compile_as_features_say),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
