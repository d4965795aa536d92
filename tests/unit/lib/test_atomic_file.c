/* Unit tests of lib/atomic_file: replacement, modes, and a kill at any point. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "atomic_file.h"

static char directory[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    strcpy(directory, "/tmp/berth-test-atomic-XXXXXX");
    if (!mkdtemp(directory))
        return -1;
    snprintf(path, sizeof(path), "%s/state.json", directory);
    return 0;
}

static int teardown(void **state)
{
    DIR *listing = opendir(directory);
    struct dirent *entry;
    (void)state;
    while (listing && (entry = readdir(listing))) {
        char child[512];
        if (entry->d_name[0] == '.' && (!entry->d_name[1] || !strcmp(entry->d_name, "..")))
            continue;
        snprintf(child, sizeof(child), "%s/%s", directory, entry->d_name);
        unlink(child);
    }
    if (listing)
        closedir(listing);
    rmdir(directory);
    return 0;
}

static char *read_file(const char *file, size_t *size)
{
    struct stat info;
    char *data;
    int fd = open(file, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &info), 0);
    data = malloc((size_t)info.st_size + 1);
    assert_non_null(data);
    assert_int_equal(read(fd, data, (size_t)info.st_size), info.st_size);
    close(fd);
    data[info.st_size] = '\0';
    *size = (size_t)info.st_size;
    return data;
}

static int count_entries(void)
{
    DIR *listing = opendir(directory);
    struct dirent *entry;
    int count = 0;
    while ((entry = readdir(listing)))
        if (strcmp(entry->d_name, ".") && strcmp(entry->d_name, ".."))
            count++;
    closedir(listing);
    return count;
}

static void writes_and_replaces(void **state)
{
    struct berr err;
    struct stat info;
    size_t size;
    char *data;
    mode_t old_umask = umask(077);
    (void)state;
    assert_int_equal(atomic_write_file(path, "first", 5, 0644, &err), 0);
    assert_int_equal(atomic_write_file(path, "second!", 7, 0644, &err), 0);
    umask(old_umask);
    data = read_file(path, &size);
    assert_string_equal(data, "second!");
    free(data);
    assert_int_equal(stat(path, &info), 0);
    assert_int_equal(info.st_mode & 0777, 0644); /* not narrowed by the umask */
    assert_int_equal(count_entries(), 1);        /* no temporary file left */
}

static void missing_directory_is_not_found(void **state)
{
    struct berr err;
    char missing[192];
    (void)state;
    snprintf(missing, sizeof(missing), "%s/no/such/file", directory);
    assert_int_equal(atomic_write_file(missing, "x", 1, 0644, &err), BERR_NOT_FOUND);
    assert_non_null(strstr(err.message, missing));
    assert_int_equal(atomic_write_file("", "x", 1, 0644, &err), BERR_INVALID);
}

/* A writer is SIGKILLed at random instants while it alternates two contents
 * of different sizes; every time, the file must hold one of them, whole. */
static void kill_at_any_point_leaves_old_or_new(void **state)
{
    enum { OLD_SIZE = 200 * 1024, NEW_SIZE = 300 * 1024, ROUNDS = 150 };
    char *old_content = malloc(OLD_SIZE), *new_content = malloc(NEW_SIZE);
    struct berr err;
    int round;
    (void)state;
    memset(old_content, 'o', OLD_SIZE);
    memset(new_content, 'n', NEW_SIZE);
    assert_int_equal(atomic_write_file(path, old_content, OLD_SIZE, 0600, &err), 0);
    srand((unsigned)time(NULL));
    for (round = 0; round < ROUNDS; round++) {
        size_t size;
        char *data;
        int status;
        pid_t writer = fork();
        assert_true(writer >= 0);
        if (writer == 0) {
            for (unsigned i = 0;; i++) {
                if (i & 1)
                    atomic_write_file(path, old_content, OLD_SIZE, 0600, NULL);
                else
                    atomic_write_file(path, new_content, NEW_SIZE, 0600, NULL);
            }
        }
        usleep((useconds_t)(rand() % 4000));
        kill(writer, SIGKILL);
        assert_int_equal(waitpid(writer, &status, 0), writer);
        data = read_file(path, &size);
        if (size == OLD_SIZE)
            assert_memory_equal(data, old_content, OLD_SIZE);
        else if (size == NEW_SIZE)
            assert_memory_equal(data, new_content, NEW_SIZE);
        else
            fail_msg("round %d: torn file of %zu bytes", round, size);
        free(data);
    }
    free(old_content);
    free(new_content);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(writes_and_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_directory_is_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(kill_at_any_point_leaves_old_or_new, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
