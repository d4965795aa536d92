/* Config and HostConfig as dockerd makes them at create, the settings the
 * lifecycle reads from them, and the OCI spec built from both. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "container_config.h"
#include "container_store.h"
#include "spec.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char image_config[] =
    "{\"Env\":[\"PATH=/usr/bin:/bin\",\"LANG=C\"],\"Cmd\":[\"sh\"],\"WorkingDir\":\"/w\","
    "\"Labels\":{\"from\":\"image\",\"both\":\"image\"},\"StopSignal\":\"SIGQUIT\"}";

struct built {
    struct container_config_output output;
    struct container_settings *settings;
    yajl_val config, host;
};

static int build(const char *request_text, const char *image_text, struct built *built,
                 struct berr *err)
{
    struct container_config_input input = {0};
    yajl_val request = NULL, image = NULL;
    int rc;

    memset(built, 0, sizeof(*built));
    assert_int_equal(json_parse(request_text, &request, err), 0);
    if (image_text)
        assert_int_equal(json_parse(image_text, &image, err), 0);
    input.request = request;
    input.image_config = image;
    input.id = ID;
    rc = container_config_build(&input, &built->output, err);
    if (rc == 0) {
        assert_int_equal(container_settings_make(built->output.config, built->output.host_config,
                                                 &built->settings, err),
                         0);
        built->config = built->settings->config;
        built->host = built->settings->host_config;
    }
    yajl_tree_free(request);
    yajl_tree_free(image);
    return rc;
}

static void built_free(struct built *built)
{
    container_config_output_free(&built->output);
    container_settings_put(built->settings);
}

static const char *string_at(yajl_val array, size_t index)
{
    assert_true(YAJL_IS_ARRAY(array) && index < array->u.array.len);
    return array->u.array.values[index]->u.string;
}

static void test_merge_with_the_image(void **state)
{
    struct built built;
    struct berr err;
    yajl_val env, labels;

    (void)state;
    assert_int_equal(build("{\"Image\":\"busybox\",\"Env\":[\"LANG=fr\",\"X=1\"],"
                           "\"Labels\":{\"both\":\"user\"}}",
                           image_config, &built, &err),
                     0);
    env = json_get(built.config, "Env");
    assert_int_equal(env->u.array.len, 3);
    assert_string_equal(string_at(env, 0), "LANG=fr");
    assert_string_equal(string_at(env, 1), "X=1");
    assert_string_equal(string_at(env, 2), "PATH=/usr/bin:/bin");
    labels = json_get(built.config, "Labels");
    assert_string_equal(json_get(labels, "both")->u.string, "user");
    assert_string_equal(json_get(labels, "from")->u.string, "image");
    assert_string_equal(built.output.path, "sh");
    assert_null(built.output.args[0]);
    assert_string_equal(json_get(built.config, "WorkingDir")->u.string, "/w");
    assert_string_equal(json_get(built.config, "Hostname")->u.string, "0123456789ab");
    assert_int_equal(built.settings->stop_signal, SIGQUIT);
    assert_int_equal(built.settings->stop_timeout, 10);
    built_free(&built);
}

static void test_entrypoint_rules(void **state)
{
    struct built built;
    struct berr err;

    (void)state;
    /* A user Cmd replaces the image's; the image's Entrypoint stays. */
    assert_int_equal(build("{\"Image\":\"x\",\"Cmd\":[\"echo\",\"hi\"]}",
                           "{\"Entrypoint\":[\"/init\"],\"Cmd\":[\"default\"]}", &built, &err),
                     0);
    assert_string_equal(built.output.path, "/init");
    assert_string_equal(built.output.args[0], "echo");
    assert_string_equal(built.output.args[1], "hi");
    built_free(&built);
    /* A user Entrypoint drops the image's Cmd too. */
    assert_int_equal(build("{\"Image\":\"x\",\"Entrypoint\":\"/bin/date\"}",
                           "{\"Entrypoint\":[\"/init\"],\"Cmd\":[\"default\"]}", &built, &err),
                     0);
    assert_string_equal(built.output.path, "/bin/date");
    assert_null(built.output.args[0]);
    built_free(&built);
    /* --entrypoint "": neither entrypoint; the user's Cmd. */
    assert_int_equal(build("{\"Image\":\"x\",\"Entrypoint\":[\"\"],\"Cmd\":[\"ls\"]}",
                           "{\"Entrypoint\":[\"/init\"]}", &built, &err),
                     0);
    assert_string_equal(built.output.path, "ls");
    assert_true(YAJL_IS_NULL(json_get(built.config, "Entrypoint")));
    built_free(&built);
    /* Nothing to run at all. */
    assert_int_equal(build("{\"Image\":\"x\"}", "{}", &built, &err), BERR_INVALID);
    assert_string_equal(err.message, "No command specified");
}

static void test_host_config_defaults_and_checks(void **state)
{
    struct built built;
    struct berr err;

    (void)state;
    assert_int_equal(build("{\"Image\":\"x\",\"Cmd\":[\"true\"],\"HostConfig\":{\"Memory\":"
                           "67108864,\"RestartPolicy\":{\"Name\":\"on-failure\","
                           "\"MaximumRetryCount\":2}}}",
                           NULL, &built, &err),
                     0);
    assert_int_equal(YAJL_GET_INTEGER(json_get(built.host, "ShmSize")), 67108864);
    assert_string_equal(json_get(json_get(built.host, "LogConfig"), "Type")->u.string, "json-file");
    assert_true(YAJL_IS_ARRAY(json_get(built.host, "MaskedPaths")));
    assert_int_equal(built.settings->restart_policy, RESTART_ON_FAILURE);
    assert_int_equal(built.settings->restart_max_retries, 2);
    assert_string_equal(built.settings->log_driver, "json-file");
    built_free(&built);
    assert_int_equal(build("{\"Image\":\"x\",\"Cmd\":[\"true\"],\"HostConfig\":{\"Memory\":100}}",
                           NULL, &built, &err),
                     BERR_INVALID);
    assert_string_equal(err.message, "Minimum memory limit allowed is 6MB");
    assert_int_equal(build("{\"Image\":\"x\",\"Cmd\":[\"true\"],\"HostConfig\":{\"NanoCpus\":1,"
                           "\"CpuQuota\":5000}}",
                           NULL, &built, &err),
                     BERR_INVALID);
    assert_int_equal(build("{\"Image\":\"x\",\"Cmd\":[\"true\"],\"HostConfig\":{\"LogConfig\":{"
                           "\"Type\":\"json-file\",\"Config\":{\"max-size\":\"10m\",\"max-file\":"
                           "\"3\"}}}}",
                           NULL, &built, &err),
                     0);
    assert_int_equal(built.settings->log_max_size, 10 * 1024 * 1024);
    assert_int_equal(built.settings->log_max_files, 3);
    built_free(&built);
    assert_int_equal(build("{\"Image\":\"x\",\"Cmd\":[\"true\"],\"HostConfig\":{\"Binds\":["
                           "\"named:/data\"]}}",
                           NULL, &built, &err),
                     BERR_INVALID);
    assert_int_equal(
        build("{\"Image\":\"x\",\"Cmd\":[\"true\"],\"Env\":[\"NOVALUE\"]}", NULL, &built, &err),
        BERR_INVALID);
}

/* Tmpfs mounts on n distinct paths, as a create request. */
static char *request_with_tmpfs(int n)
{
    size_t size = 64 + (size_t)n * 24, used;
    char *text = malloc(size);

    assert_non_null(text);
    used = (size_t)snprintf(text, size,
                            "{\"Image\":\"x\",\"Cmd\":[\"true\"],\"HostConfig\":{\"Tmpfs\":{");
    for (int i = 0; i < n; i++)
        used += (size_t)snprintf(text + used, size - used, "%s\"/t%d\":\"\"", i ? "," : "", i);
    snprintf(text + used, size - used, "}}}");
    return text;
}

/* Mounts past the limit are an error, never dropped in silence. */
static void test_mount_limit(void **state)
{
    struct built built;
    struct berr err;
    char *text;

    (void)state;
    text = request_with_tmpfs(200);
    assert_int_equal(build(text, NULL, &built, &err), 0);
    built_free(&built);
    free(text);
    text = request_with_tmpfs(300);
    assert_int_equal(build(text, NULL, &built, &err), BERR_INVALID);
    assert_string_equal(err.message, "too many mounts: at most 256");
    free(text);
}

static yajl_val spec_of(struct built *built, const char *passwd, const char *group, bool strict,
                        struct berr *err, int *rc)
{
    struct spec_input input = {0};
    char *text = NULL;
    size_t length = 0;
    yajl_val tree = NULL;

    input.id = ID;
    input.settings = built->settings;
    input.passwd = passwd;
    input.group = group;
    input.strict_user = strict;
    input.hosts_path = "/h/hosts";
    input.hostname_path = "/h/hostname";
    input.resolv_conf_path = "/h/resolv.conf";
    input.netns_path = "/run/netns/x";
    input.init_path = "/usr/bin/tini-static";
    *rc = spec_build(&input, &text, &length, err);
    if (*rc == 0)
        assert_int_equal(json_parse(text, &tree, err), 0);
    free(text);
    return tree;
}

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "app:x:1000:1001:app:/home/app:/bin/sh\n";
static const char group[] = "root:x:0:\napp:x:1001:\nextra:x:2000:app,other\n";

static void test_spec_user_and_process(void **state)
{
    struct built built;
    struct berr err;
    yajl_val spec, user, env, gids;
    int rc;

    (void)state;
    assert_int_equal(build("{\"Image\":\"x\",\"User\":\"app\",\"Tty\":true,\"Cmd\":[\"id\"],"
                           "\"Env\":[\"PATH=/custom\"]}",
                           NULL, &built, &err),
                     0);
    spec = spec_of(&built, passwd, group, true, &err, &rc);
    assert_int_equal(rc, 0);
    user = json_get(json_get(spec, "process"), "user");
    assert_int_equal(YAJL_GET_INTEGER(json_get(user, "uid")), 1000);
    assert_int_equal(YAJL_GET_INTEGER(json_get(user, "gid")), 1001);
    gids = json_get(user, "additionalGids");
    assert_int_equal(gids->u.array.len, 1);
    assert_int_equal(YAJL_GET_INTEGER(gids->u.array.values[0]), 2000);
    env = json_get(json_get(spec, "process"), "env");
    assert_string_equal(string_at(env, 0), "PATH=/custom");
    assert_string_equal(string_at(env, 1), "HOSTNAME=0123456789ab");
    assert_string_equal(string_at(env, 2), "TERM=xterm");
    assert_string_equal(json_get(json_get(spec, "linux"), "cgroupsPath")->u.string, "/berth/" ID);
    assert_true(YAJL_IS_TRUE(json_get(json_get(spec, "process"), "terminal")));
    yajl_tree_free(spec);
    /* A user the image does not know: an error at start, root at create. */
    container_config_output_free(&built.output);
    container_settings_put(built.settings);
    assert_int_equal(
        build("{\"Image\":\"x\",\"User\":\"ghost\",\"Cmd\":[\"id\"]}", NULL, &built, &err), 0);
    assert_null(spec_of(&built, passwd, group, true, &err, &rc));
    assert_int_equal(rc, BERR_INVALID);
    spec = spec_of(&built, passwd, group, false, &err, &rc);
    assert_int_equal(rc, 0);
    yajl_tree_free(spec);
    built_free(&built);
}

static bool has_string(yajl_val array, const char *value)
{
    for (size_t i = 0; YAJL_IS_ARRAY(array) && i < array->u.array.len; i++)
        if (YAJL_IS_STRING(array->u.array.values[i]) &&
            strcmp(array->u.array.values[i]->u.string, value) == 0)
            return true;
    return false;
}

static bool has_syscall(yajl_val seccomp, const char *name)
{
    yajl_val rules = json_get(seccomp, "syscalls");

    for (size_t i = 0; rules && i < rules->u.array.len; i++)
        if (has_string(json_get(rules->u.array.values[i], "names"), name))
            return true;
    return false;
}

static void test_spec_security(void **state)
{
    struct built built;
    struct berr err;
    yajl_val spec, caps, seccomp, mounts;
    int rc;

    (void)state;
    assert_int_equal(build("{\"Image\":\"x\",\"Cmd\":[\"true\"],\"HostConfig\":{\"CapAdd\":["
                           "\"sys_ptrace\"],\"CapDrop\":[\"CAP_NET_RAW\"],\"Init\":true,"
                           "\"ShmSize\":8388608}}",
                           NULL, &built, &err),
                     0);
    spec = spec_of(&built, NULL, NULL, true, &err, &rc);
    assert_int_equal(rc, 0);
    caps = json_get(json_get(json_get(spec, "process"), "capabilities"), "bounding");
    assert_true(has_string(caps, "CAP_SYS_PTRACE"));
    assert_false(has_string(caps, "CAP_NET_RAW"));
    assert_true(has_string(caps, "CAP_CHOWN"));
    seccomp = json_get(json_get(spec, "linux"), "seccomp");
    assert_string_equal(json_get(seccomp, "defaultAction")->u.string, "SCMP_ACT_ERRNO");
    assert_true(has_syscall(seccomp, "read"));
    assert_true(has_syscall(seccomp, "ptrace"));      /* CAP_SYS_PTRACE's group */
    assert_false(has_syscall(seccomp, "mount"));      /* CAP_SYS_ADMIN's */
    assert_false(has_syscall(seccomp, "kexec_load")); /* nobody's */
    assert_string_equal(string_at(json_get(json_get(spec, "process"), "args"), 0), SPEC_INIT_PATH);
    mounts = json_get(spec, "mounts");
    for (size_t i = 0; i < mounts->u.array.len; i++) {
        yajl_val mount = mounts->u.array.values[i];
        if (strcmp(json_get(mount, "destination")->u.string, "/dev/shm") == 0)
            assert_true(has_string(json_get(mount, "options"), "size=8388608"));
        /* Parents come before their children. */
        if (strcmp(json_get(mount, "destination")->u.string, "/dev/pts") == 0)
            assert_true(i > 0);
    }
    yajl_tree_free(spec);
    built_free(&built);
    assert_int_equal(build("{\"Image\":\"x\",\"Cmd\":[\"true\"],\"HostConfig\":{"
                           "\"Privileged\":true}}",
                           NULL, &built, &err),
                     0);
    spec = spec_of(&built, NULL, NULL, true, &err, &rc);
    assert_null(json_get(json_get(spec, "linux"), "seccomp"));
    assert_null(json_get(json_get(spec, "linux"), "maskedPaths"));
    yajl_tree_free(spec);
    built_free(&built);
}

static void test_update(void **state)
{
    struct built built;
    struct berr err;
    yajl_val update, host;
    char *text = NULL;
    bool changed;

    (void)state;
    assert_int_equal(build("{\"Image\":\"x\",\"Cmd\":[\"true\"],\"HostConfig\":{\"Memory\":"
                           "67108864,\"MemorySwap\":-1,\"CpuShares\":100}}",
                           NULL, &built, &err),
                     0);
    assert_int_equal(
        json_parse("{\"Memory\":134217728,\"CpuShares\":0,\"Privileged\":true}", &update, &err), 0);
    assert_int_equal(container_config_update(built.host, update, false, &text, &changed, &err), 0);
    assert_true(changed);
    assert_int_equal(json_parse(text, &host, &err), 0);
    assert_int_equal(YAJL_GET_INTEGER(json_get(host, "Memory")), 134217728);
    assert_int_equal(YAJL_GET_INTEGER(json_get(host, "CpuShares")), 100); /* 0: unchanged */
    assert_true(YAJL_IS_FALSE(json_get(host, "Privileged")));             /* not updatable */
    yajl_tree_free(host);
    yajl_tree_free(update);
    free(text);
    built_free(&built);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_with_the_image),
        cmocka_unit_test(test_entrypoint_rules),
        cmocka_unit_test(test_host_config_defaults_and_checks),
        cmocka_unit_test(test_mount_limit),
        cmocka_unit_test(test_spec_user_and_process),
        cmocka_unit_test(test_spec_security),
        cmocka_unit_test(test_update),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
