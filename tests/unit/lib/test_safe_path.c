/* Unit tests of lib/safe_path: no walk ever leaves the root. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "safe_path.h"

static char root[64];
static int root_fd = -1;

static void make_file(const char *relative, const char *content)
{
    int fd = openat(root_fd, relative, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
}

/* root/
 *   dir/file, dir/back -> ../dir, dir/escape -> ../../../../etc/passwd
 *   etc/hostname ("inside")
 *   up -> ..   deep -> dir/../../..   abs -> /etc   abs_in -> /dir   rel -> dir/file
 *   loop1 -> loop2 -> loop1   self -> self   chain -> up/up/etc   file_link -> dir/file */
static int setup(void **state)
{
    (void)state;
    strcpy(root, "/tmp/berth-test-root-XXXXXX");
    if (!mkdtemp(root))
        return -1;
    root_fd = open(root, O_PATH | O_DIRECTORY);
    if (root_fd < 0 || mkdirat(root_fd, "dir", 0755) || mkdirat(root_fd, "etc", 0755))
        return -1;
    make_file("dir/file", "file");
    make_file("etc/hostname", "inside");
    if (symlinkat("../dir", root_fd, "dir/back") ||
        symlinkat("../../../../etc/passwd", root_fd, "dir/escape") ||
        symlinkat("..", root_fd, "up") || symlinkat("dir/../../..", root_fd, "deep") ||
        symlinkat("/etc", root_fd, "abs") || symlinkat("/dir", root_fd, "abs_in") ||
        symlinkat("dir/file", root_fd, "rel") || symlinkat("loop2", root_fd, "loop1") ||
        symlinkat("loop1", root_fd, "loop2") || symlinkat("self", root_fd, "self") ||
        symlinkat("up/up/etc", root_fd, "chain"))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    char command[128];
    (void)state;
    close(root_fd);
    snprintf(command, sizeof(command), "rm -rf '%s'", root);
    return system(command) == 0 ? 0 : -1;
}

static void expect_join(const char *unsafe, enum safe_path_mode mode, const char *expected)
{
    char *out = NULL, want[PATH_MAX];
    struct berr err;
    int rc = safe_path_join(root, unsafe, mode, &out, &err);
    if (rc)
        fail_msg("join %s: %s", unsafe, err.message);
    snprintf(want, sizeof(want), "%s%s", root, expected);
    assert_string_equal(out, want);
    free(out);
}

static void expect_refused(const char *unsafe, enum safe_path_mode mode, enum berr_code code)
{
    char *out = NULL;
    struct berr err;
    int rc = safe_path_join(root, unsafe, mode, &out, &err);
    if (rc == 0)
        fail_msg("join %s gave %s, expected a refusal", unsafe, out);
    assert_int_equal(rc, code);
    assert_null(out);
}

static void in_root_clamps_every_escape(void **state)
{
    (void)state;
    expect_join("", SAFE_PATH_IN_ROOT, "");
    expect_join("/", SAFE_PATH_IN_ROOT, "");
    expect_join("../..", SAFE_PATH_IN_ROOT, "");
    expect_join("../../etc/passwd", SAFE_PATH_IN_ROOT, "/etc/passwd");
    expect_join("/dir/./file", SAFE_PATH_IN_ROOT, "/dir/file");
    expect_join("up/etc/hostname", SAFE_PATH_IN_ROOT, "/etc/hostname");
    expect_join("deep/etc", SAFE_PATH_IN_ROOT, "/etc");
    expect_join("abs/hostname", SAFE_PATH_IN_ROOT, "/etc/hostname");
    expect_join("abs_in/file", SAFE_PATH_IN_ROOT, "/dir/file");
    expect_join("dir/escape", SAFE_PATH_IN_ROOT, "/etc/passwd");
    expect_join("chain/hostname", SAFE_PATH_IN_ROOT, "/etc/hostname");
    expect_join("rel", SAFE_PATH_IN_ROOT, "/dir/file");
    expect_join("dir/back/back/file", SAFE_PATH_IN_ROOT, "/dir/file");
    /* Missing components are kept, ".." over them is lexical. */
    expect_join("new/deeper/../x", SAFE_PATH_IN_ROOT, "/new/x");
    expect_join("dir/file/below", SAFE_PATH_IN_ROOT, "/dir/file/below");
}

static void beneath_refuses_every_escape(void **state)
{
    (void)state;
    expect_refused("..", SAFE_PATH_BENEATH, BERR_INVALID);
    expect_refused("../..", SAFE_PATH_BENEATH, BERR_INVALID);
    expect_refused("dir/../../x", SAFE_PATH_BENEATH, BERR_INVALID);
    expect_refused("up/x", SAFE_PATH_BENEATH, BERR_INVALID);
    expect_refused("deep", SAFE_PATH_BENEATH, BERR_INVALID);
    expect_refused("abs", SAFE_PATH_BENEATH, BERR_INVALID);
    expect_refused("abs_in/file", SAFE_PATH_BENEATH, BERR_INVALID);
    expect_refused("dir/escape", SAFE_PATH_BENEATH, BERR_INVALID);
    expect_refused("chain", SAFE_PATH_BENEATH, BERR_INVALID);
    /* Walks that stay inside are fine. */
    expect_join("dir/../dir/file", SAFE_PATH_BENEATH, "/dir/file");
    expect_join("dir/back/file", SAFE_PATH_BENEATH, "/dir/file");
    expect_join("rel", SAFE_PATH_BENEATH, "/dir/file");
}

static void symlink_loops_fail(void **state)
{
    (void)state;
    expect_refused("loop1", SAFE_PATH_IN_ROOT, BERR_INVALID);
    expect_refused("loop2/x", SAFE_PATH_IN_ROOT, BERR_INVALID);
    expect_refused("self", SAFE_PATH_BENEATH, BERR_INVALID);
}

/* Property: whatever the mix of components, an IN_ROOT result is inside the
 * root, and so is the real path of its longest existing prefix. */
static void random_walks_stay_inside(void **state)
{
    static const char *const parts[] = {"..",     ".",     "dir",  "up",   "abs",
                                        "abs_in", "rel",   "deep", "back", "escape",
                                        "x",      "chain", "",     "etc",  "/"};
    size_t root_length = strlen(root);
    int round;
    (void)state;
    srand(12345);
    for (round = 0; round < 3000; round++) {
        char unsafe[512] = "", *out = NULL, real[PATH_MAX];
        struct berr err;
        int count = 1 + rand() % 8, i;
        for (i = 0; i < count; i++) {
            strcat(unsafe, parts[rand() % (int)(sizeof(parts) / sizeof(parts[0]))]);
            strcat(unsafe, "/");
        }
        if (safe_path_join(root, unsafe, SAFE_PATH_IN_ROOT, &out, &err))
            continue;
        assert_memory_equal(out, root, root_length);
        assert_true(out[root_length] == '\0' || out[root_length] == '/');
        while (!realpath(out, real)) {
            char *slash = strrchr(out, '/');
            assert_non_null(slash);
            *slash = '\0';
        }
        if (strncmp(real, root, root_length) != 0)
            fail_msg("%s resolved to %s, outside %s", unsafe, real, root);
        free(out);
    }
}

static void open_resolves_in_the_kernel(void **state)
{
    struct berr err;
    char content[16] = {0};
    int fd = -1;
    (void)state;
    /* /etc/hostname of the host exists, but the walk must land on the root's. */
    assert_int_equal(
        safe_path_open(root_fd, "abs/hostname", O_RDONLY, 0, SAFE_PATH_IN_ROOT, &fd, &err), 0);
    assert_true(read(fd, content, sizeof(content) - 1) > 0);
    assert_string_equal(content, "inside");
    close(fd);
    assert_int_equal(
        safe_path_open(root_fd, "../../../etc/hostname", O_RDONLY, 0, SAFE_PATH_IN_ROOT, &fd, &err),
        0);
    close(fd);
    assert_int_equal(
        safe_path_open(root_fd, "abs/hostname", O_RDONLY, 0, SAFE_PATH_BENEATH, &fd, &err),
        BERR_INVALID);
    assert_int_equal(safe_path_open(root_fd, "../x", O_RDONLY, 0, SAFE_PATH_BENEATH, &fd, &err),
                     BERR_INVALID);
    assert_int_equal(
        safe_path_open(root_fd, "dir/escape", O_RDONLY, 0, SAFE_PATH_IN_ROOT, &fd, &err),
        BERR_NOT_FOUND);
    assert_int_equal(safe_path_open(root_fd, "loop1", O_RDONLY, 0, SAFE_PATH_IN_ROOT, &fd, &err),
                     BERR_INVALID);
    assert_int_equal(safe_path_open(root_fd, "up/created", O_WRONLY | O_CREAT, 0600,
                                    SAFE_PATH_IN_ROOT, &fd, &err),
                     0);
    close(fd);
    assert_int_equal(faccessat(root_fd, "created", F_OK, 0), 0);
}

static void mkdir_all_creates_inside(void **state)
{
    struct berr err;
    struct stat info;
    int fd = -1;
    (void)state;
    assert_int_equal(safe_path_mkdir_all(root_fd, "new/a/b", 0755, SAFE_PATH_IN_ROOT, &fd, &err),
                     0);
    close(fd);
    assert_int_equal(fstatat(root_fd, "new/a/b", &info, 0), 0);
    assert_true(S_ISDIR(info.st_mode));
    assert_int_equal(safe_path_mkdir_all(root_fd, "abs/made", 0755, SAFE_PATH_IN_ROOT, &fd, &err),
                     0);
    close(fd);
    assert_int_equal(fstatat(root_fd, "etc/made", &info, 0), 0);
    assert_int_equal(safe_path_mkdir_all(root_fd, "up/up/top", 0755, SAFE_PATH_IN_ROOT, &fd, &err),
                     0);
    close(fd);
    assert_int_equal(fstatat(root_fd, "top", &info, 0), 0);
    assert_int_equal(safe_path_mkdir_all(root_fd, "abs/x", 0755, SAFE_PATH_BENEATH, &fd, &err),
                     BERR_INVALID);
    assert_int_equal(safe_path_mkdir_all(root_fd, "dir/file/x", 0755, SAFE_PATH_IN_ROOT, &fd, &err),
                     BERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(in_root_clamps_every_escape, setup, teardown),
        cmocka_unit_test_setup_teardown(beneath_refuses_every_escape, setup, teardown),
        cmocka_unit_test_setup_teardown(symlink_loops_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(random_walks_stay_inside, setup, teardown),
        cmocka_unit_test_setup_teardown(open_resolves_in_the_kernel, setup, teardown),
        cmocka_unit_test_setup_teardown(mkdir_all_creates_inside, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
