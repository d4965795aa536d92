/* Unit tests of ociruntime/cgroup_v2.
 *
 * This host's v2 tree (/sys/fs/cgroup/unified) has no controllers, so the
 * conversions are tested as functions, the resource files and statistics
 * against a fake cgroup directory of plain files in /tmp, and the device
 * filter for real: a cgroup in the v2 tree gets the eBPF program, and a
 * child moved into it tries to open devices. Every cgroup and directory a
 * test creates is removed by its teardown, also when it fails. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgroup_file.h"
#include "cgroup_stats.h"
#include "cgroup_v2.h"
#include "json.h"

#define UNIFIED_ROOT "/sys/fs/cgroup/unified"
#define MIB          (1024 * 1024)

/* ---- pure conversions ---- */

static void cpu_weight_from_shares(void **state)
{
    (void)state;
    assert_int_equal(cgroup_v2_cpu_weight(0), 0);
    assert_int_equal(cgroup_v2_cpu_weight(1), 1);
    assert_int_equal(cgroup_v2_cpu_weight(2), 1);
    assert_int_equal(cgroup_v2_cpu_weight(1024), 39); /* 1 + (1022 * 9999) / 262142 */
    assert_int_equal(cgroup_v2_cpu_weight(262144), 10000);
    assert_int_equal(cgroup_v2_cpu_weight(1000000), 10000);
}

static void io_weight_from_blkio_weight(void **state)
{
    (void)state;
    assert_int_equal(cgroup_v2_io_weight(0), 0);
    assert_int_equal(cgroup_v2_io_weight(10), 1);
    assert_int_equal(cgroup_v2_io_weight(100), 910); /* 1 + 90 * 9999 / 990 */
    assert_int_equal(cgroup_v2_io_weight(500), 4950);
    assert_int_equal(cgroup_v2_io_weight(1000), 10000);
}

static void swap_max_from_memory_plus_swap(void **state)
{
    char text[32];
    struct berr err;
    (void)state;

    assert_int_equal(cgroup_v2_swap_max(false, 0, 64 * MIB, text, sizeof(text), &err), 0);
    assert_string_equal(text, "");
    assert_int_equal(cgroup_v2_swap_max(false, 0, -1, text, sizeof(text), &err), 0);
    assert_string_equal(text, "max");
    assert_int_equal(cgroup_v2_swap_max(true, -1, 64 * MIB, text, sizeof(text), &err), 0);
    assert_string_equal(text, "max");
    assert_int_equal(cgroup_v2_swap_max(true, 96 * MIB, 64 * MIB, text, sizeof(text), &err), 0);
    assert_string_equal(text, "33554432");
    assert_int_equal(cgroup_v2_swap_max(true, 64 * MIB, 64 * MIB, text, sizeof(text), &err), 0);
    assert_string_equal(text, "0");
    assert_int_equal(cgroup_v2_swap_max(true, 96 * MIB, -1, text, sizeof(text), &err), 0);
    assert_string_equal(text, "100663296");
    assert_int_equal(cgroup_v2_swap_max(true, 32 * MIB, 64 * MIB, text, sizeof(text), &err),
                     BERR_INVALID);
    assert_non_null(strstr(err.message, "must not be below memory.limit"));
    assert_int_equal(cgroup_v2_swap_max(true, 32 * MIB, 0, text, sizeof(text), &err), BERR_INVALID);
    assert_non_null(strstr(err.message, "needs memory.limit"));
}

static void cpu_max_from_quota_and_period(void **state)
{
    struct cgroup_resources r;
    char text[64];
    (void)state;

    memset(&r, 0, sizeof(r));
    cgroup_v2_cpu_max(&r, NULL, text, sizeof(text));
    assert_string_equal(text, "");
    r.cpu_quota = (struct opt_i64){true, 50000};
    cgroup_v2_cpu_max(&r, NULL, text, sizeof(text));
    assert_string_equal(text, "50000");
    r.cpu_period = (struct opt_u64){true, 100000};
    cgroup_v2_cpu_max(&r, NULL, text, sizeof(text));
    assert_string_equal(text, "50000 100000");
    r.cpu_quota.value = -1;
    cgroup_v2_cpu_max(&r, NULL, text, sizeof(text));
    assert_string_equal(text, "max 100000");
    /* Period alone keeps the present quota. */
    r.cpu_quota.set = false;
    cgroup_v2_cpu_max(&r, "25000 50000\n", text, sizeof(text));
    assert_string_equal(text, "25000 100000");
    cgroup_v2_cpu_max(&r, "max 100000", text, sizeof(text));
    assert_string_equal(text, "max 100000");
}

static void check_refuses_what_v2_cannot_do(void **state)
{
    struct cgroup_block_device_weight device;
    struct cgroup_network_priority priority = {"lo", 1};
    struct cgroup_resources r;
    struct berr err;
    (void)state;

    memset(&r, 0, sizeof(r));
    r.memory_limit = (struct opt_i64){true, MIB};
    r.memory_kernel = (struct opt_i64){true, -1};
    r.has_use_hierarchy = r.use_hierarchy = true;
    r.has_disable_oom_killer = true;
    assert_int_equal(cgroup_v2_check(&r, &err), 0);

#define REFUSED(setting, words)                                                                    \
    do {                                                                                           \
        memset(&r, 0, sizeof(r));                                                                  \
        setting;                                                                                   \
        assert_int_equal(cgroup_v2_check(&r, &err), BERR_UNSUPPORTED);                             \
        if (!strstr(err.message, words))                                                           \
            fail_msg("message \"%s\" lacks \"%s\"", err.message, words);                           \
    } while (0)
    REFUSED(r.memory_kernel = ((struct opt_i64){true, MIB}), "memory.kernel");
    REFUSED(r.memory_kernel_tcp = ((struct opt_i64){true, MIB}), "memory.kernelTCP");
    REFUSED(r.memory_swappiness = ((struct opt_u64){true, 0}), "memory.swappiness");
    REFUSED(r.has_disable_oom_killer = r.disable_oom_killer = true, "disableOOMKiller");
    REFUSED((r.has_use_hierarchy = true, r.use_hierarchy = false), "useHierarchy");
    REFUSED(r.cpu_realtime_runtime = ((struct opt_i64){true, 1000}), "realtime");
    REFUSED(r.cpu_realtime_period = ((struct opt_u64){true, 1000}), "realtime");
    REFUSED(r.blkio_leaf_weight = ((struct opt_u64){true, 100}), "leafWeight");
    memset(&device, 0, sizeof(device));
    device.leaf_weight = (struct opt_u64){true, 100};
    REFUSED((r.blkio_weight_devices = &device, r.blkio_weight_device_count = 1),
            "weightDevice[0].leafWeight");
    REFUSED(r.network_class_id = ((struct opt_u64){true, 1}), "net_cls");
    REFUSED((r.network_priorities = &priority, r.network_priority_count = 1), "net_prio");
#undef REFUSED
}

/* ---- a fake cgroup directory in /tmp ---- */

struct fake {
    char root[64];
};

static int remove_entry(const char *path, const struct stat *info, int type, struct FTW *ftw)
{
    (void)info;
    (void)type;
    (void)ftw;
    return remove(path);
}

static int fake_setup(void **state)
{
    struct fake *fake = calloc(1, sizeof(*fake));

    if (!fake)
        return -1;
    snprintf(fake->root, sizeof(fake->root), "/tmp/berth-unit-cgroup-v2-XXXXXX");
    if (!mkdtemp(fake->root)) {
        free(fake);
        return -1;
    }
    *state = fake;
    return 0;
}

static int fake_teardown(void **state)
{
    struct fake *fake = *state;

    nftw(fake->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(fake);
    return 0;
}

static void make_file(const char *dir, const char *name, const char *content)
{
    char path[PATH_MAX];
    FILE *file;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    file = fopen(path, "w");
    assert_non_null(file);
    fputs(content, file);
    fclose(file);
}

static void make_dir(const char *dir, const char *name)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    assert_int_equal(mkdir(path, 0755), 0);
}

static void expect_file(const char *dir, const char *name, const char *expected)
{
    char value[4096];
    struct berr err;

    if (cgroup_file_read(dir, name, value, sizeof(value), &err))
        fail_msg("read %s: %s", name, err.message);
    if (strcmp(value, expected) != 0)
        fail_msg("%s is \"%s\", wanted \"%s\"", name, value, expected);
}

static void enable_controllers_top_down(void **state)
{
    struct fake *fake = *state;
    struct cgroup_unified_entry rdma = {"rdma.max", "mlx4_0 hca_handle=2"};
    struct cgroup_resources r;
    char a[256], b[256], path[256];
    struct berr err;

    snprintf(a, sizeof(a), "%s/a", fake->root);
    snprintf(b, sizeof(b), "%s/a/b", fake->root);
    snprintf(path, sizeof(path), "%s/a/b/container", fake->root);
    make_file(fake->root, "cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
    make_file(fake->root, "cgroup.subtree_control", "");
    make_dir(fake->root, "a");
    make_file(a, "cgroup.subtree_control", "cpu\n");
    make_dir(a, "b");
    make_file(b, "cgroup.subtree_control", "");

    /* Nothing needed: nothing written. */
    memset(&r, 0, sizeof(r));
    assert_int_equal(cgroup_v2_enable_controllers_from(fake->root, path, &r, &err), 0);
    expect_file(fake->root, "cgroup.subtree_control", "");

    /* A controller the root does not offer: refused before any write. */
    r.memory_limit = (struct opt_i64){true, MIB};
    r.unified = &rdma;
    r.unified_count = 1;
    assert_int_equal(cgroup_v2_enable_controllers_from(fake->root, path, &r, &err),
                     BERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "the cgroup v2 rdma controller is not available"));
    expect_file(fake->root, "cgroup.subtree_control", "");

    r.unified_count = 0;
    r.cpu_shares = (struct opt_u64){true, 512};
    if (cgroup_v2_enable_controllers_from(fake->root, path, &r, &err))
        fail_msg("%s", err.message);
    expect_file(fake->root, "cgroup.subtree_control", "+cpu +memory");
    expect_file(a, "cgroup.subtree_control", "+memory"); /* cpu was on already */
    expect_file(b, "cgroup.subtree_control", "+cpu +memory");

    assert_int_equal(cgroup_v2_enable_controllers_from(fake->root, "/elsewhere/x", &r, &err),
                     BERR_INVALID);
}

static const char *const v2_files[] = {
    "cpuset.cpus", "cpuset.mems", "cpu.weight",  "cpu.max",         "cpu.max.burst",
    "cpu.idle",    "memory.max",  "memory.low",  "memory.swap.max", "pids.max",
    "io.weight",   "io.max",      "memory.high", "hugetlb.2MB.max",
};

static void apply_writes_converted_values(void **state)
{
    struct fake *fake = *state;
    struct cgroup_block_device_throttle read_bps = {8, 0, 1000}, write_iops = {8, 16, 0};
    struct cgroup_block_device_weight device_weight = {8, 0, {true, 1000}, {false, 0}};
    struct cgroup_hugepage_limit huge = {"2MB", 1073741824};
    struct cgroup_unified_entry unified = {"memory.high", "50M"};
    struct cgroup_resources r;
    struct berr err;
    size_t i;

    for (i = 0; i < sizeof(v2_files) / sizeof(v2_files[0]); i++)
        make_file(fake->root, v2_files[i], "");
    memset(&r, 0, sizeof(r));
    r.cpuset_cpus = "0-1";
    r.cpuset_mems = "0";
    r.cpu_shares = (struct opt_u64){true, 1024};
    r.cpu_quota = (struct opt_i64){true, 50000};
    r.cpu_period = (struct opt_u64){true, 100000};
    r.cpu_burst = (struct opt_u64){true, 1000};
    r.cpu_idle = (struct opt_i64){true, 1};
    r.memory_limit = (struct opt_i64){true, 64 * MIB};
    r.memory_swap = (struct opt_i64){true, 96 * MIB};
    r.memory_reservation = (struct opt_i64){true, 32 * MIB};
    r.pids_limit = (struct opt_i64){true, 64};
    r.blkio_weight = (struct opt_u64){true, 500};
    r.blkio_weight_devices = &device_weight;
    r.blkio_weight_device_count = 1;
    r.throttle_read_bps = (struct cgroup_throttle_list){&read_bps, 1};
    r.throttle_write_iops = (struct cgroup_throttle_list){&write_iops, 1};
    r.hugepage_limits = &huge;
    r.hugepage_limit_count = 1;
    r.unified = &unified;
    r.unified_count = 1;
    if (cgroup_v2_apply(fake->root, &r, &err))
        fail_msg("cgroup_v2_apply: %s", err.message);

    expect_file(fake->root, "cpuset.cpus", "0-1");
    expect_file(fake->root, "cpuset.mems", "0");
    expect_file(fake->root, "cpu.weight", "39");
    expect_file(fake->root, "cpu.max", "50000 100000");
    expect_file(fake->root, "cpu.max.burst", "1000");
    expect_file(fake->root, "cpu.idle", "1");
    expect_file(fake->root, "memory.max", "67108864");
    expect_file(fake->root, "memory.swap.max", "33554432");
    expect_file(fake->root, "memory.low", "33554432");
    expect_file(fake->root, "pids.max", "64");
    /* One write(2) per command on one open file: a plain file shows them
     * one after the other. */
    expect_file(fake->root, "io.weight", "49508:0 10000");
    expect_file(fake->root, "io.max", "8:0 rbps=10008:16 wiops=max");
    expect_file(fake->root, "hugetlb.2MB.max", "1073741824");
    expect_file(fake->root, "memory.high", "50M");

    /* Unlimited values are "max"; a period alone keeps the quota. */
    memset(&r, 0, sizeof(r));
    r.memory_limit = (struct opt_i64){true, -1};
    r.cpu_period = (struct opt_u64){true, 200000};
    r.pids_limit = (struct opt_i64){true, 0};
    if (cgroup_v2_apply(fake->root, &r, &err))
        fail_msg("cgroup_v2_apply: %s", err.message);
    expect_file(fake->root, "memory.max", "max");
    expect_file(fake->root, "memory.swap.max", "max");
    expect_file(fake->root, "cpu.max", "50000 200000");
    expect_file(fake->root, "pids.max", "max");

    /* Swap alone is computed against the present memory.max. */
    make_file(fake->root, "memory.max", "67108864\n");
    memset(&r, 0, sizeof(r));
    r.memory_swap = (struct opt_i64){true, 80 * MIB};
    if (cgroup_v2_apply(fake->root, &r, &err))
        fail_msg("cgroup_v2_apply: %s", err.message);
    expect_file(fake->root, "memory.swap.max", "16777216");

    /* BFQ takes blkio weights as they are. */
    make_file(fake->root, "io.bfq.weight", "");
    memset(&r, 0, sizeof(r));
    r.blkio_weight = (struct opt_u64){true, 500};
    if (cgroup_v2_apply(fake->root, &r, &err))
        fail_msg("cgroup_v2_apply: %s", err.message);
    expect_file(fake->root, "io.bfq.weight", "500");
}

static void apply_reports_missing_files(void **state)
{
    struct fake *fake = *state;
    struct cgroup_unified_entry unified = {"memory.oom.group", "1"};
    struct cgroup_resources r;
    struct berr err;
    char missing[PATH_MAX];

    memset(&r, 0, sizeof(r));
    r.memory_limit = (struct opt_i64){true, MIB};
    assert_int_equal(cgroup_v2_apply(fake->root, &r, &err), BERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "memory.max: not supported by this kernel"));

    memset(&r, 0, sizeof(r));
    r.unified = &unified;
    r.unified_count = 1;
    assert_int_equal(cgroup_v2_apply(fake->root, &r, &err), BERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "unified: memory.oom.group"));

    snprintf(missing, sizeof(missing), "%s/gone", fake->root);
    memset(&r, 0, sizeof(r));
    r.pids_limit = (struct opt_i64){true, 1};
    assert_int_equal(cgroup_v2_apply(missing, &r, &err), BERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "pids.max: no such cgroup"));

    /* What v2 cannot do is refused before any write. */
    memset(&r, 0, sizeof(r));
    r.memory_swappiness = (struct opt_u64){true, 1};
    assert_int_equal(cgroup_v2_apply(fake->root, &r, &err), BERR_UNSUPPORTED);
}

static void stats_from_v2_files(void **state)
{
    struct fake *fake = *state;
    char sizes[CGROUP_HUGEPAGE_SIZES_MAX][16];
    size_t count, i;
    bool has_2mb = false;
    struct json_writer writer;
    const char *text;
    size_t length;
    struct berr err;
    char expected[2048];

    assert_int_equal(cgroup_hugepage_sizes(sizes, CGROUP_HUGEPAGE_SIZES_MAX, &count, &err), 0);
    for (i = 0; i < count; i++)
        has_2mb = has_2mb || strcmp(sizes[i], "2MB") == 0;
    make_file(fake->root, "cpu.stat",
              "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\n"
              "nr_throttled 2\nthrottled_usec 300\nnr_bursts 0\nburst_usec 0\n");
    make_file(fake->root, "memory.current", "8192\n");
    make_file(fake->root, "memory.max", "max\n");
    make_file(fake->root, "memory.peak", "16384\n");
    make_file(fake->root, "memory.stat", "anon 4096\nfile 2048\n");
    make_file(fake->root, "memory.swap.current", "1024\n");
    make_file(fake->root, "memory.swap.max", "max\n");
    make_file(fake->root, "pids.current", "3\n");
    make_file(fake->root, "pids.max", "max\n");
    make_file(fake->root, "io.stat",
              "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n"
              "253:1 rbytes=5 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n");
    make_file(fake->root, "hugetlb.2MB.current", "2097152\n");
    make_file(fake->root, "hugetlb.2MB.events", "max 4\n");

    assert_int_equal(json_writer_init(&writer, false, &err), 0);
    json_object_begin(&writer);
    if (cgroup_v2_stats(fake->root, &writer, &err))
        fail_msg("cgroup_v2_stats: %s", err.message);
    json_object_end(&writer);
    assert_int_equal(json_writer_result(&writer, &text, &length, &err), 0);
    snprintf(
        expected, sizeof(expected),
        "{\"cpu\":{\"usage\":{\"total\":1500000,\"kernel\":500000,\"user\":1000000},"
        "\"throttling\":{\"periods\":10,\"throttledPeriods\":2,\"throttledTime\":300000}},"
        "\"memory\":{\"cache\":2048,\"usage\":{\"limit\":18446744073709551615,\"usage\":8192,"
        "\"max\":16384,\"failcnt\":0},\"swap\":{\"limit\":18446744073709551615,"
        "\"usage\":9216,\"failcnt\":0},\"raw\":{\"anon\":4096,\"file\":2048}},"
        "\"pids\":{\"current\":3},"
        "\"blkio\":{\"ioServiceBytesRecursive\":[{\"major\":8,\"op\":\"Read\",\"value\":100},"
        "{\"major\":8,\"op\":\"Write\",\"value\":200},{\"major\":253,\"minor\":1,\"op\":"
        "\"Read\",\"value\":5},{\"major\":253,\"minor\":1,\"op\":\"Write\"}],"
        "\"ioServicedRecursive\":[{\"major\":8,\"op\":\"Read\",\"value\":1},{\"major\":8,"
        "\"op\":\"Write\",\"value\":2},{\"major\":253,\"minor\":1,\"op\":\"Read\",\"value\":1},"
        "{\"major\":253,\"minor\":1,\"op\":\"Write\"}]},"
        "\"hugetlb\":{%s}}",
        has_2mb ? "\"2MB\":{\"usage\":2097152,\"failcnt\":4}" : "");
    assert_string_equal(text, expected);
    json_writer_free(&writer);
}

/* ---- the real v2 tree ---- */

struct unified {
    char path[256];
};

static int unified_setup(void **state)
{
    struct unified *u = calloc(1, sizeof(*u));
    struct statfs filesystem;

    if (!u)
        return -1;
    if (statfs(UNIFIED_ROOT, &filesystem) != 0 || filesystem.f_type != CGROUP2_SUPER_MAGIC ||
        geteuid() != 0) {
        u->path[0] = '\0'; /* the tests skip */
        *state = u;
        return 0;
    }
    snprintf(u->path, sizeof(u->path), "%s/berth-unit-%d", UNIFIED_ROOT, (int)getpid());
    if (mkdir(u->path, 0755) != 0) {
        fprintf(stderr, "setup: mkdir %s: %s\n", u->path, strerror(errno));
        free(u);
        return -1;
    }
    *state = u;
    return 0;
}

static int unified_teardown(void **state)
{
    struct unified *u = *state;
    int attempt;

    /* The children are reaped before each test step returns; an exited
     * task may take a moment to leave. */
    for (attempt = 0; u->path[0] && attempt < 200; attempt++) {
        if (rmdir(u->path) == 0 || errno == ENOENT)
            break;
        usleep(10 * 1000);
    }
    if (u->path[0] && access(u->path, F_OK) == 0)
        fprintf(stderr, "teardown: cannot remove %s: %s\n", u->path, strerror(errno));
    free(u);
    return 0;
}

static const char *unified_path(void **state)
{
    struct unified *u = *state;

    if (!u->path[0])
        skip();
    return u->path;
}

/* In a child moved into cgroup: open(path, flags). 0 or the errno. */
static int open_in_cgroup(const char *cgroup, const char *path, int flags)
{
    int status;
    pid_t pid = fork();

    if (pid < 0)
        return -1;
    if (pid == 0) {
        char text[32];
        int fd;
        snprintf(text, sizeof(text), "%d", (int)getpid());
        if (cgroup_file_write(cgroup, "cgroup.procs", text, NULL))
            _exit(250);
        fd = open(path, flags | O_CLOEXEC);
        _exit(fd < 0 ? (errno & 0xff) : 0);
    }
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

/* In a child moved into cgroup: mknod a character device node. */
static int mknod_in_cgroup(const char *cgroup, unsigned major_number, unsigned minor_number)
{
    int status;
    pid_t pid = fork();

    if (pid < 0)
        return -1;
    if (pid == 0) {
        char text[32], node[64];
        snprintf(text, sizeof(text), "%d", (int)getpid());
        if (cgroup_file_write(cgroup, "cgroup.procs", text, NULL))
            _exit(250);
        snprintf(node, sizeof(node), "/tmp/berth-unit-node-%d", (int)getpid());
        if (mknod(node, S_IFCHR | 0600, makedev(major_number, minor_number)) != 0)
            _exit(errno & 0xff);
        unlink(node);
        _exit(0);
    }
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static void apply_rules(const char *path, struct cgroup_device_rule *rules, size_t count)
{
    struct cgroup_resources r;
    struct berr err;

    memset(&r, 0, sizeof(r));
    r.devices = rules;
    r.device_count = count;
    if (cgroup_v2_apply(path, &r, &err))
        fail_msg("cgroup_v2_apply: %s", err.message);
}

#define RULES(...)                                                                                 \
    (struct cgroup_device_rule[])                                                                  \
    {                                                                                              \
        __VA_ARGS__                                                                                \
    }
#define COUNT(...)                                                                                 \
    (sizeof((struct cgroup_device_rule[]){__VA_ARGS__}) / sizeof(struct cgroup_device_rule))
#define APPLY(path, ...) apply_rules(path, RULES(__VA_ARGS__), COUNT(__VA_ARGS__))

static void device_filter_allow_list(void **state)
{
    const char *path = unified_path(state);

    /* Deny everything, then allow /dev/zero (1:5) only. */
    APPLY(path, {false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 5, "rwm"});
    assert_int_equal(open_in_cgroup(path, "/dev/null", O_RDONLY), EPERM);
    assert_int_equal(open_in_cgroup(path, "/dev/null", O_WRONLY), EPERM);
    assert_int_equal(open_in_cgroup(path, "/dev/zero", O_RDWR), 0);
    /* The test process itself is not in the cgroup. */
    assert_int_equal(access("/dev/null", R_OK), 0);
}

static void device_filter_deny_list(void **state)
{
    const char *path = unified_path(state);

    /* No "a" rule: everything not denied is allowed. */
    APPLY(path, {false, 'c', 1, 3, "rwm"});
    assert_int_equal(open_in_cgroup(path, "/dev/null", O_RDONLY), EPERM);
    assert_int_equal(open_in_cgroup(path, "/dev/zero", O_RDONLY), 0);
    assert_int_equal(open_in_cgroup(path, "/dev/full", O_WRONLY), 0);
}

static void device_filter_checks_each_access(void **state)
{
    const char *path = unified_path(state);

    /* /dev/null readable only, and no mknod anywhere. */
    APPLY(path, {false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 3, "r"}, {true, 'c', 1, 5, "rw"});
    assert_int_equal(open_in_cgroup(path, "/dev/null", O_RDONLY), 0);
    assert_int_equal(open_in_cgroup(path, "/dev/null", O_WRONLY), EPERM);
    assert_int_equal(open_in_cgroup(path, "/dev/null", O_RDWR), EPERM);
    assert_int_equal(open_in_cgroup(path, "/dev/zero", O_RDWR), 0);
    assert_int_equal(mknod_in_cgroup(path, 1, 5), EPERM);

    /* Access split over two allow rules adds up. */
    APPLY(path, {false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 3, "r"}, {true, 'c', -1, -1, "w"},
          {true, 'c', 1, 5, "m"});
    assert_int_equal(open_in_cgroup(path, "/dev/null", O_RDWR), 0);
    assert_int_equal(open_in_cgroup(path, "/dev/zero", O_RDONLY), EPERM);
    assert_int_equal(mknod_in_cgroup(path, 1, 5), 0);
}

static void device_filter_last_match_wins(void **state)
{
    const char *path = unified_path(state);

    APPLY(path, {false, 'a', -1, -1, "rwm"}, {true, 'c', -1, -1, "rwm"}, {false, 'c', 1, 3, "w"});
    assert_int_equal(open_in_cgroup(path, "/dev/null", O_RDONLY), 0);
    assert_int_equal(open_in_cgroup(path, "/dev/null", O_WRONLY), EPERM);
    assert_int_equal(open_in_cgroup(path, "/dev/zero", O_RDWR), 0);

    /* A later allow re-opens it; rules before an "a" rule no longer count. */
    APPLY(path, {false, 'c', 1, 3, "rwm"}, {true, 'c', 1, 3, "w"});
    assert_int_equal(open_in_cgroup(path, "/dev/null", O_WRONLY), 0);
    assert_int_equal(open_in_cgroup(path, "/dev/null", O_RDONLY), EPERM);
    APPLY(path, {false, 'c', 1, 3, "rwm"}, {true, 'a', -1, -1, "rwm"});
    assert_int_equal(open_in_cgroup(path, "/dev/null", O_RDWR), 0);
}

static uint32_t attached_programs(const char *path)
{
    uint32_t ids[16];
    union bpf_attr attr;
    int fd = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);

    assert_true(fd >= 0);
    memset(&attr, 0, sizeof(attr));
    attr.query.target_fd = (uint32_t)fd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
    attr.query.prog_cnt = 16;
    assert_int_equal(syscall(__NR_bpf, BPF_PROG_QUERY, &attr, sizeof(attr)), 0);
    close(fd);
    return attr.query.prog_cnt;
}

static void device_filter_update_replaces_the_program(void **state)
{
    const char *path = unified_path(state);
    struct cgroup_resources r;
    struct berr err;

    assert_int_equal(attached_programs(path), 0);
    APPLY(path, {false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 5, "rwm"});
    assert_int_equal(attached_programs(path), 1);
    APPLY(path, {true, 'a', -1, -1, "rwm"});
    assert_int_equal(attached_programs(path), 1);
    assert_int_equal(open_in_cgroup(path, "/dev/null", O_RDWR), 0);
    APPLY(path, {false, 'a', -1, -1, "rwm"});
    assert_int_equal(attached_programs(path), 1);
    assert_int_equal(open_in_cgroup(path, "/dev/zero", O_RDONLY), EPERM);

    /* An update without device rules leaves the filter alone. */
    memset(&r, 0, sizeof(r));
    assert_int_equal(cgroup_v2_apply(path, &r, &err), 0);
    assert_int_equal(attached_programs(path), 1);
}

static void enable_controllers_on_this_host(void **state)
{
    const char *path = unified_path(state);
    struct cgroup_resources r;
    char child[PATH_MAX], available[1024];
    struct berr err;

    snprintf(child, sizeof(child), "%s/container", path);
    memset(&r, 0, sizeof(r));
    r.pids_limit = (struct opt_i64){true, 10};
    assert_int_equal(
        cgroup_file_read(UNIFIED_ROOT, "cgroup.controllers", available, sizeof(available), NULL),
        0);
    if (strstr(available, "pids"))
        skip(); /* would change the host's root subtree_control */
    assert_int_equal(cgroup_v2_enable_controllers(child, &r, &err), BERR_UNSUPPORTED);
    assert_non_null(
        strstr(err.message, "the cgroup v2 pids controller is not available in " UNIFIED_ROOT));
    memset(&r, 0, sizeof(r));
    assert_int_equal(cgroup_v2_enable_controllers(child, &r, &err), 0);
}

/* A child that sleeps in cgroup until its pipe closes; -1 if it could not
 * be started or moved (then it is already reaped). */
static pid_t start_sleeper(const char *cgroup, int *pipe_end)
{
    char text[32];
    char byte;
    int go[2], status;
    pid_t pid;

    if (pipe2(go, O_CLOEXEC) != 0)
        return -1;
    pid = fork();
    if (pid < 0) {
        close(go[0]);
        close(go[1]);
        return -1;
    }
    if (pid == 0) {
        close(go[1]);
        while (read(go[0], &byte, 1) > 0)
            ;
        _exit(0);
    }
    close(go[0]);
    snprintf(text, sizeof(text), "%d", (int)pid);
    if (cgroup_file_write(cgroup, "cgroup.procs", text, NULL)) {
        close(go[1]);
        waitpid(pid, &status, 0);
        return -1;
    }
    *pipe_end = go[1];
    return pid;
}

static void stats_of_a_real_cgroup(void **state)
{
    const char *path = unified_path(state);
    struct json_writer writer;
    yajl_val tree = NULL, pids;
    const char *text;
    size_t length;
    struct berr err;
    int pipe_end = -1, rc;
    pid_t pid;

    assert_int_equal(json_writer_init(&writer, false, &err), 0);
    pid = start_sleeper(path, &pipe_end);
    assert_true(pid > 0);
    /* No assertion until the child is reaped. */
    json_object_begin(&writer);
    rc = cgroup_v2_stats(path, &writer, &err);
    json_object_end(&writer);
    close(pipe_end);
    waitpid(pid, NULL, 0);
    if (rc)
        fail_msg("cgroup_v2_stats: %s", err.message);
    assert_int_equal(json_writer_result(&writer, &text, &length, &err), 0);
    print_message("%s\n", text);
    assert_int_equal(json_parse(text, &tree, &err), 0);
    json_writer_free(&writer);
    assert_true(YAJL_IS_OBJECT(json_get(tree, "cpu")));
    assert_true(YAJL_IS_OBJECT(json_get(tree, "memory")));
    assert_true(YAJL_IS_OBJECT(json_get(tree, "blkio")));
    assert_true(YAJL_IS_OBJECT(json_get(tree, "hugetlb")));
    pids = json_get(tree, "pids");
    assert_true(YAJL_IS_OBJECT(pids));
    assert_non_null(json_get(pids, "current"));
    assert_int_equal(json_get(pids, "current")->u.number.i, 1);
    yajl_tree_free(tree);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cpu_weight_from_shares),
        cmocka_unit_test(io_weight_from_blkio_weight),
        cmocka_unit_test(swap_max_from_memory_plus_swap),
        cmocka_unit_test(cpu_max_from_quota_and_period),
        cmocka_unit_test(check_refuses_what_v2_cannot_do),
        cmocka_unit_test_setup_teardown(enable_controllers_top_down, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(apply_writes_converted_values, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(apply_reports_missing_files, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(stats_from_v2_files, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(device_filter_allow_list, unified_setup, unified_teardown),
        cmocka_unit_test_setup_teardown(device_filter_deny_list, unified_setup, unified_teardown),
        cmocka_unit_test_setup_teardown(device_filter_checks_each_access, unified_setup,
                                        unified_teardown),
        cmocka_unit_test_setup_teardown(device_filter_last_match_wins, unified_setup,
                                        unified_teardown),
        cmocka_unit_test_setup_teardown(device_filter_update_replaces_the_program, unified_setup,
                                        unified_teardown),
        cmocka_unit_test_setup_teardown(enable_controllers_on_this_host, unified_setup,
                                        unified_teardown),
        cmocka_unit_test_setup_teardown(stats_of_a_real_cgroup, unified_setup, unified_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
