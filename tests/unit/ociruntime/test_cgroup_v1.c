/* Unit tests of ociruntime/cgroup_v1 on this host's real v1 hierarchies:
 * each test gets fresh cgroups /sys/fs/cgroup/<controller>/berth-unit-<pid>,
 * applies resources, reads the files back, and the teardown removes the
 * cgroups (and any child process) even when an assertion failed. Also the
 * exact JSON of the statistics writer. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgroup_file.h"
#include "cgroup_stats.h"
#include "cgroup_v1.h"
#include "json.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define MIB         (1024 * 1024)

static const char *const test_controllers[] = {"cpu",  "cpuacct", "cpuset", "memory",
                                               "pids", "blkio",   "devices"};
#define TEST_CONTROLLER_COUNT (sizeof(test_controllers) / sizeof(test_controllers[0]))

struct fixture {
    struct cgroup cgroup;
    char paths[TEST_CONTROLLER_COUNT][PATH_MAX];
    size_t created;
    pid_t child;
    int to_child;
    int from_child;
};

static bool is_directory(const char *path)
{
    struct stat info;
    return stat(path, &info) == 0 && S_ISDIR(info.st_mode);
}

/* rmdir, waiting a little for exiting tasks to leave. */
static void remove_cgroup(const char *path)
{
    int attempt;

    for (attempt = 0; attempt < 200; attempt++) {
        if (rmdir(path) == 0 || errno == ENOENT)
            return;
        if (errno != EBUSY)
            break;
        usleep(10 * 1000);
    }
    fprintf(stderr, "teardown: cannot remove %s: %s\n", path, strerror(errno));
}

static void stop_child(struct fixture *f)
{
    if (f->child > 0) {
        kill(f->child, SIGKILL);
        waitpid(f->child, NULL, 0);
        f->child = 0;
    }
    if (f->to_child >= 0)
        close(f->to_child);
    if (f->from_child >= 0)
        close(f->from_child);
    f->to_child = f->from_child = -1;
}

static void remove_all(struct fixture *f)
{
    while (f->created > 0) {
        f->created--;
        remove_cgroup(f->paths[f->created]);
    }
}

/* A new cpuset has no CPUs or memory nodes: take the parent's. */
static int init_cpuset(const char *path)
{
    char parent[PATH_MAX], value[256];
    const char *files[] = {"cpuset.cpus", "cpuset.mems"};
    size_t i;

    snprintf(parent, sizeof(parent), "%s", path);
    *strrchr(parent, '/') = '\0';
    for (i = 0; i < 2; i++)
        if (cgroup_file_read(parent, files[i], value, sizeof(value), NULL) ||
            cgroup_file_write(path, files[i], value, NULL))
            return -1;
    return 0;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    size_t i;

    if (!f)
        return -1;
    f->to_child = f->from_child = -1;
    f->cgroup.layout = CGROUP_LAYOUT_HYBRID;
    for (i = 0; i < TEST_CONTROLLER_COUNT; i++) {
        char mount[256];
        struct cgroup_hierarchy *hierarchy;
        snprintf(mount, sizeof(mount), "%s/%s", CGROUP_ROOT, test_controllers[i]);
        if (!is_directory(mount) || access(mount, W_OK) != 0)
            continue;
        snprintf(f->paths[f->created], PATH_MAX, "%s/berth-unit-%d", mount, (int)getpid());
        if (mkdir(f->paths[f->created], 0755) != 0 && errno != EEXIST)
            goto failed;
        f->created++;
        if (strcmp(test_controllers[i], "cpuset") == 0 && init_cpuset(f->paths[f->created - 1]))
            goto failed;
        hierarchy = &f->cgroup.hierarchies[f->cgroup.count++];
        hierarchy->controllers = test_controllers[i];
        hierarchy->path = f->paths[f->created - 1];
        hierarchy->is_v2 = false;
    }
    *state = f;
    return 0;
failed:
    fprintf(stderr, "setup: %s: %s\n", f->paths[f->created], strerror(errno));
    remove_all(f);
    free(f);
    return -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    stop_child(f);
    remove_all(f);
    free(f);
    return 0;
}

/* The hierarchy of a controller, or skip the test when the host lacks it. */
static const struct cgroup_hierarchy *hierarchy_of(struct fixture *f, const char *controller)
{
    size_t i;

    for (i = 0; i < f->cgroup.count; i++)
        if (strcmp(f->cgroup.hierarchies[i].controllers, controller) == 0)
            return &f->cgroup.hierarchies[i];
    skip();
    return NULL;
}

static void apply(const struct cgroup_hierarchy *hierarchy, const struct cgroup_resources *r)
{
    struct berr err;
    int rc = cgroup_v1_apply(hierarchy, r, &err);

    if (rc)
        fail_msg("cgroup_v1_apply %s: %s", hierarchy->controllers, err.message);
}

static void expect_file(const char *dir, const char *name, const char *expected)
{
    char value[4096];
    struct berr err;

    if (cgroup_file_read(dir, name, value, sizeof(value), &err))
        fail_msg("read %s: %s", name, err.message);
    if (strcmp(value, expected) != 0)
        fail_msg("%s/%s is \"%s\", wanted \"%s\"", dir, name, value, expected);
}

static uint64_t read_number(const char *dir, const char *name)
{
    uint64_t value = 0;
    struct berr err;

    if (cgroup_file_read_u64(dir, name, &value, &err))
        fail_msg("read %s: %s", name, err.message);
    return value;
}

/* ---- memory ---- */

static void memory_limits_are_written(void **state)
{
    const struct cgroup_hierarchy *memory = hierarchy_of(*state, "memory");
    struct cgroup_resources r;
    char oom[256];

    memset(&r, 0, sizeof(r));
    r.memory_limit = (struct opt_i64){true, 64 * MIB};
    r.memory_reservation = (struct opt_i64){true, 32 * MIB};
    r.memory_swappiness = (struct opt_u64){true, 10};
    r.has_disable_oom_killer = r.disable_oom_killer = true;
    r.has_use_hierarchy = r.use_hierarchy = true;
    if (cgroup_file_exists(memory->path, "memory.memsw.limit_in_bytes"))
        r.memory_swap = (struct opt_i64){true, 128 * MIB};
    apply(memory, &r);

    expect_file(memory->path, "memory.limit_in_bytes", "67108864");
    expect_file(memory->path, "memory.soft_limit_in_bytes", "33554432");
    expect_file(memory->path, "memory.swappiness", "10");
    expect_file(memory->path, "memory.use_hierarchy", "1");
    if (r.memory_swap.set)
        expect_file(memory->path, "memory.memsw.limit_in_bytes", "134217728");
    assert_int_equal(cgroup_file_read(memory->path, "memory.oom_control", oom, sizeof(oom), NULL),
                     0);
    assert_non_null(strstr(oom, "oom_kill_disable 1"));
}

/* memsw must stay >= the limit: lowering writes the limit first, raising
 * writes memsw first; either order alone fails one of the two updates. */
static void memory_and_swap_are_ordered(void **state)
{
    const struct cgroup_hierarchy *memory = hierarchy_of(*state, "memory");
    struct cgroup_resources r;

    if (!cgroup_file_exists(memory->path, "memory.memsw.limit_in_bytes"))
        skip();
    memset(&r, 0, sizeof(r));
    r.memory_limit = (struct opt_i64){true, 64 * MIB};
    r.memory_swap = (struct opt_i64){true, 128 * MIB};
    apply(memory, &r);

    r.memory_limit.value = 16 * MIB;
    r.memory_swap.value = 32 * MIB;
    apply(memory, &r);
    expect_file(memory->path, "memory.limit_in_bytes", "16777216");
    expect_file(memory->path, "memory.memsw.limit_in_bytes", "33554432");

    r.memory_limit.value = 256 * MIB;
    r.memory_swap.value = 512 * MIB;
    apply(memory, &r);
    expect_file(memory->path, "memory.limit_in_bytes", "268435456");
    expect_file(memory->path, "memory.memsw.limit_in_bytes", "536870912");

    /* Unlimited memory with swap unset lifts memsw too. */
    memset(&r, 0, sizeof(r));
    r.memory_limit = (struct opt_i64){true, -1};
    apply(memory, &r);
    assert_true(read_number(memory->path, "memory.limit_in_bytes") > (1ULL << 62));
    assert_true(read_number(memory->path, "memory.memsw.limit_in_bytes") > (1ULL << 62));
}

/* Linux 5.16+ accepts and ignores memory.kmem.limit_in_bytes: berth must
 * not claim the limit was applied. */
static void kernel_memory_is_applied_or_refused(void **state)
{
    const struct cgroup_hierarchy *memory = hierarchy_of(*state, "memory");
    struct cgroup_resources r;
    struct berr err;
    int rc;

    memset(&r, 0, sizeof(r));
    r.memory_kernel = (struct opt_i64){true, 64 * MIB};
    rc = cgroup_v1_apply(memory, &r, &err);
    if (rc == 0) {
        assert_int_equal(read_number(memory->path, "memory.kmem.limit_in_bytes"), 64 * MIB);
    } else {
        assert_int_equal(rc, BERR_UNSUPPORTED);
        assert_non_null(strstr(err.message, "memory.kmem.limit_in_bytes"));
        print_message("kernel memory limit refused: %s\n", err.message);
    }

    memset(&r, 0, sizeof(r));
    r.memory_kernel_tcp = (struct opt_i64){true, 16 * MIB};
    rc = cgroup_v1_apply(memory, &r, &err);
    if (cgroup_file_exists(memory->path, "memory.kmem.tcp.limit_in_bytes")) {
        assert_int_equal(rc, 0);
        expect_file(memory->path, "memory.kmem.tcp.limit_in_bytes", "16777216");
    } else {
        assert_int_equal(rc, BERR_UNSUPPORTED);
    }
}

static void non_hierarchical_memory_is_applied_or_refused(void **state)
{
    const struct cgroup_hierarchy *memory = hierarchy_of(*state, "memory");
    struct cgroup_resources r;
    struct berr err;
    int rc;

    memset(&r, 0, sizeof(r));
    r.has_use_hierarchy = true;
    r.use_hierarchy = false;
    rc = cgroup_v1_apply(memory, &r, &err);
    if (rc == 0) {
        expect_file(memory->path, "memory.use_hierarchy", "0");
    } else {
        assert_int_equal(rc, BERR_UNSUPPORTED);
        assert_non_null(strstr(err.message, "useHierarchy must be true"));
    }
}

/* ---- cpu, cpuset, pids, blkio ---- */

static void cpu_bandwidth_is_written_in_a_valid_order(void **state)
{
    const struct cgroup_hierarchy *cpu = hierarchy_of(*state, "cpu");
    struct cgroup_resources r;

    memset(&r, 0, sizeof(r));
    r.cpu_shares = (struct opt_u64){true, 512};
    r.cpu_period = (struct opt_u64){true, 50000};
    r.cpu_quota = (struct opt_i64){true, 25000};
    if (cgroup_file_exists(cpu->path, "cpu.cfs_burst_us"))
        r.cpu_burst = (struct opt_u64){true, 10000};
    apply(cpu, &r);
    expect_file(cpu->path, "cpu.shares", "512");
    expect_file(cpu->path, "cpu.cfs_period_us", "50000");
    expect_file(cpu->path, "cpu.cfs_quota_us", "25000");

    if (r.cpu_burst.set) {
        expect_file(cpu->path, "cpu.cfs_burst_us", "10000");
        /* A burst above the present quota only fits after the quota. */
        r.cpu_quota.value = 50000;
        r.cpu_burst.value = 40000;
        apply(cpu, &r);
        expect_file(cpu->path, "cpu.cfs_quota_us", "50000");
        expect_file(cpu->path, "cpu.cfs_burst_us", "40000");
        r.cpu_burst.value = 0;
    }
    r.cpu_quota.value = -1;
    apply(cpu, &r);
    expect_file(cpu->path, "cpu.cfs_quota_us", "-1");
}

static void cpu_idle_and_realtime(void **state)
{
    const struct cgroup_hierarchy *cpu = hierarchy_of(*state, "cpu");
    struct cgroup_resources r;

    memset(&r, 0, sizeof(r));
    if (cgroup_file_exists(cpu->path, "cpu.rt_runtime_us")) {
        r.cpu_realtime_period = (struct opt_u64){true, 500000};
        r.cpu_realtime_runtime = (struct opt_i64){true, 10000};
        apply(cpu, &r);
        expect_file(cpu->path, "cpu.rt_period_us", "500000");
        expect_file(cpu->path, "cpu.rt_runtime_us", "10000");
        memset(&r, 0, sizeof(r));
    }
    if (!cgroup_file_exists(cpu->path, "cpu.idle"))
        return;
    r.cpu_idle = (struct opt_i64){true, 1};
    apply(cpu, &r);
    expect_file(cpu->path, "cpu.idle", "1");
    /* Shares are refused while idle: idle 0 must go first. */
    r.cpu_idle.value = 0;
    r.cpu_shares = (struct opt_u64){true, 256};
    apply(cpu, &r);
    expect_file(cpu->path, "cpu.idle", "0");
    expect_file(cpu->path, "cpu.shares", "256");
}

static void cpuset_and_pids(void **state)
{
    const struct cgroup_hierarchy *cpuset = hierarchy_of(*state, "cpuset");
    const struct cgroup_hierarchy *pids = hierarchy_of(*state, "pids");
    struct cgroup_resources r;

    memset(&r, 0, sizeof(r));
    r.cpuset_cpus = "0";
    r.cpuset_mems = "0";
    r.pids_limit = (struct opt_i64){true, 100};
    apply(cpuset, &r);
    apply(pids, &r);
    expect_file(cpuset->path, "cpuset.cpus", "0");
    expect_file(cpuset->path, "cpuset.mems", "0");
    expect_file(pids->path, "pids.max", "100");

    r.pids_limit.value = 0;
    apply(pids, &r);
    expect_file(pids->path, "pids.max", "max");
    r.pids_limit.value = 50;
    apply(pids, &r);
    r.pids_limit.value = -1;
    apply(pids, &r);
    expect_file(pids->path, "pids.max", "max");
}

/* The whole disk holding "/", for throttling; false when there is none. */
static bool root_disk(unsigned *major_number, unsigned *minor_number)
{
    struct stat info;
    char path[128];

    if (stat("/", &info) != 0 || major(info.st_dev) == 0)
        return false;
    snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/partition", major(info.st_dev),
             minor(info.st_dev));
    if (access(path, F_OK) == 0)
        return false;
    snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major(info.st_dev), minor(info.st_dev));
    if (access(path, F_OK) != 0)
        return false;
    *major_number = major(info.st_dev);
    *minor_number = minor(info.st_dev);
    return true;
}

static void blkio_weight_and_throttles(void **state)
{
    const struct cgroup_hierarchy *blkio = hierarchy_of(*state, "blkio");
    struct cgroup_block_device_throttle throttle;
    struct cgroup_resources r;
    unsigned major_number, minor_number;
    char expected[64];
    struct berr err;
    bool cfq = cgroup_file_exists(blkio->path, "blkio.weight");

    memset(&r, 0, sizeof(r));
    if (cfq || cgroup_file_exists(blkio->path, "blkio.bfq.weight")) {
        r.blkio_weight = (struct opt_u64){true, 200};
        apply(blkio, &r);
        expect_file(blkio->path, cfq ? "blkio.weight" : "blkio.bfq.weight", "200");
        memset(&r, 0, sizeof(r));
    }
    if (!cgroup_file_exists(blkio->path, "blkio.leaf_weight")) {
        r.blkio_leaf_weight = (struct opt_u64){true, 200};
        assert_int_equal(cgroup_v1_apply(blkio, &r, &err), BERR_UNSUPPORTED);
        assert_non_null(strstr(err.message, "blkio.leaf_weight"));
        memset(&r, 0, sizeof(r));
    }
    if (!root_disk(&major_number, &minor_number))
        return;
    throttle.major = major_number;
    throttle.minor = minor_number;
    throttle.rate = 1048576;
    r.throttle_read_bps.items = &throttle;
    r.throttle_read_bps.count = 1;
    apply(blkio, &r);
    snprintf(expected, sizeof(expected), "%u:%u 1048576", major_number, minor_number);
    expect_file(blkio->path, "blkio.throttle.read_bps_device", expected);
    throttle.rate = 0; /* lifts it */
    apply(blkio, &r);
    expect_file(blkio->path, "blkio.throttle.read_bps_device", "");
}

/* ---- devices ---- */

static bool list_has_line(const char *list, const char *line)
{
    size_t length = strlen(line);
    const char *cursor = list;

    while ((cursor = strstr(cursor, line))) {
        if ((cursor == list || cursor[-1] == '\n') &&
            (cursor[length] == '\n' || cursor[length] == '\0'))
            return true;
        cursor += length;
    }
    return false;
}

static void device_rules_are_written_in_order(void **state)
{
    const struct cgroup_hierarchy *devices = hierarchy_of(*state, "devices");
    struct cgroup_device_rule rules[] = {
        {false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 3, "rwm"}, {true, 'c', 1, 5, "r"},
        {true, 'c', -1, -1, "m"},    {true, 'b', 8, -1, "rw"}, {false, 'c', 1, 3, "w"},
    };
    struct cgroup_resources r;
    char list[4096];

    memset(&r, 0, sizeof(r));
    r.devices = rules;
    r.device_count = sizeof(rules) / sizeof(rules[0]);
    apply(devices, &r);
    assert_int_equal(cgroup_file_read(devices->path, "devices.list", list, sizeof(list), NULL), 0);
    if (!list_has_line(list, "c 1:3 rm") || !list_has_line(list, "c 1:5 r") ||
        !list_has_line(list, "c *:* m") || !list_has_line(list, "b 8:* rw") ||
        list_has_line(list, "a *:* rwm"))
        fail_msg("devices.list:\n%s", list);

    /* An allow-all rule returns to "everything allowed". */
    r.devices = rules;
    rules[0].allow = true;
    r.device_count = 1;
    apply(devices, &r);
    expect_file(devices->path, "devices.list", "a *:* rwm");
}

/* ---- dispatch, errors, check ---- */

static void other_hierarchies_are_left_alone(void **state)
{
    struct cgroup_hierarchy systemd = {"name=systemd", "/nonexistent/berth", false};
    struct cgroup_hierarchy freezer = {"freezer,perf_event", "/nonexistent/berth", false};
    struct cgroup_hierarchy unified = {"", "/nonexistent/berth", true};
    struct cgroup_resources r;
    struct berr err;
    (void)state;

    memset(&r, 0, sizeof(r));
    r.memory_limit = (struct opt_i64){true, MIB};
    r.cpu_shares = (struct opt_u64){true, 100};
    r.pids_limit = (struct opt_i64){true, 5};
    assert_int_equal(cgroup_v1_apply(&systemd, &r, &err), 0);
    assert_int_equal(cgroup_v1_apply(&freezer, &r, &err), 0);
    assert_int_equal(cgroup_v1_apply(&unified, &r, &err), 0);

    /* But a controller in a comma list is found. */
    freezer.controllers = "freezer,pids";
    assert_int_equal(cgroup_v1_apply(&freezer, &r, &err), BERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "pids.max"));
}

static void errors_name_the_file_and_value(void **state)
{
    const struct cgroup_hierarchy *memory = hierarchy_of(*state, "memory");
    struct cgroup_resources r;
    struct berr err;

    /* Out of the kernel's range (the parser would refuse it first). */
    memset(&r, 0, sizeof(r));
    r.memory_swappiness = (struct opt_u64){true, 201};
    assert_int_equal(cgroup_v1_apply(memory, &r, &err), BERR_INVALID);
    assert_string_equal(err.message, "memory.swappiness: write 201: Invalid argument");
    assert_int_equal(err.sys_errno, EINVAL);
}

static void check_refuses_missing_controllers(void **state)
{
    struct fixture *f = *state;
    struct cgroup empty;
    struct cgroup_hugepage_limit hugepages = {"2MB", MIB};
    struct cgroup_network_priority priority = {"lo", 1};
    struct cgroup_unified_entry unified = {"memory.high", "1M"};
    struct cgroup_resources r;
    struct berr err;

    memset(&r, 0, sizeof(r));
    r.memory_limit = (struct opt_i64){true, MIB};
    r.pids_limit = (struct opt_i64){true, 5};
    r.cpu_shares = (struct opt_u64){true, 100};
    if (hierarchy_of(f, "memory") && hierarchy_of(f, "pids") && hierarchy_of(f, "cpu"))
        assert_int_equal(cgroup_v1_check(&f->cgroup, &r, &err), 0);

    memset(&empty, 0, sizeof(empty));
    assert_int_equal(cgroup_v1_check(&empty, &r, &err), BERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "cgroup controller, which this host does not mount"));

    if (!is_directory(CGROUP_ROOT "/hugetlb")) {
        memset(&r, 0, sizeof(r));
        r.hugepage_limits = &hugepages;
        r.hugepage_limit_count = 1;
        assert_int_equal(cgroup_v1_check(&f->cgroup, &r, &err), BERR_UNSUPPORTED);
        assert_string_equal(err.message, "hugepageLimits: needs the hugetlb cgroup controller, "
                                         "which this host does not mount");
    }
    if (!is_directory(CGROUP_ROOT "/net_cls") && !is_directory(CGROUP_ROOT "/net_cls,net_prio")) {
        memset(&r, 0, sizeof(r));
        r.network_class_id = (struct opt_u64){true, 7};
        assert_int_equal(cgroup_v1_check(&f->cgroup, &r, &err), BERR_UNSUPPORTED);
        assert_non_null(strstr(err.message, "network.classID: needs the net_cls"));
        memset(&r, 0, sizeof(r));
        r.network_priorities = &priority;
        r.network_priority_count = 1;
        assert_int_equal(cgroup_v1_check(&f->cgroup, &r, &err), BERR_UNSUPPORTED);
        assert_non_null(strstr(err.message, "net_prio"));
    }
    memset(&r, 0, sizeof(r));
    r.unified = &unified;
    r.unified_count = 1;
    assert_int_equal(cgroup_v1_check(&f->cgroup, &r, &err), BERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "unified: needs a cgroup v2 (unified) host"));
}

/* ---- a process in the cgroups ---- */

static void burn_cpu(long milliseconds)
{
    struct timespec now;

    do
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    while (now.tv_sec * 1000L + now.tv_nsec / 1000000L < milliseconds);
}

/* Forks a child, moves it into every test cgroup, lets it burn some CPU
 * and touch touch_bytes of memory, and waits until it has. It then sleeps
 * until stop_child. */
static void start_child(struct fixture *f, size_t touch_bytes)
{
    int go[2], ready[2];
    char byte = 'x';
    size_t i;

    assert_int_equal(pipe2(go, O_CLOEXEC), 0);
    assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
    f->child = fork();
    assert_true(f->child >= 0);
    if (f->child == 0) {
        char *memory;
        close(go[1]);
        close(ready[0]);
        if (read(go[0], &byte, 1) != 1)
            _exit(1);
        burn_cpu(30);
        memory = malloc(touch_bytes);
        if (!memory)
            _exit(2);
        memset(memory, 1, touch_bytes);
        if (write(ready[1], &byte, 1) != 1)
            _exit(3);
        while (read(go[0], &byte, 1) > 0)
            ;
        _exit(memory[touch_bytes - 1] == 1 ? 0 : 4);
    }
    close(go[0]);
    close(ready[1]);
    f->to_child = go[1];
    f->from_child = ready[0];
    for (i = 0; i < f->cgroup.count; i++) {
        char pid[32];
        struct berr err;
        snprintf(pid, sizeof(pid), "%d", (int)f->child);
        if (cgroup_file_write(f->cgroup.hierarchies[i].path, "cgroup.procs", pid, &err))
            fail_msg("move the child: %s", err.message);
    }
    assert_int_equal(write(f->to_child, &byte, 1), 1);
    assert_int_equal(read(f->from_child, &byte, 1), 1);
}

static void check_before_update_refuses_a_limit_below_usage(void **state)
{
    struct fixture *f = *state;
    const struct cgroup_hierarchy *memory = hierarchy_of(f, "memory");
    struct cgroup_resources r;
    struct berr err;

    start_child(f, 4 * MIB);
    memset(&r, 0, sizeof(r));
    r.memory_limit = (struct opt_i64){true, 4096};
    r.check_before_update = true;
    assert_int_equal(cgroup_v1_apply(memory, &r, &err), BERR_CONFLICT);
    assert_non_null(strstr(err.message, "memory.limit 4096 is below the current usage"));
    assert_true(read_number(memory->path, "memory.limit_in_bytes") > (1ULL << 62));
    stop_child(f);
}

static yajl_val member(yajl_val object, const char *key)
{
    yajl_val value = json_get(object, key);

    if (!value)
        fail_msg("no member \"%s\"", key);
    return value;
}

static uint64_t number(yajl_val object, const char *key)
{
    uint64_t value = 0;
    struct berr err;

    if (json_as_uint64(member(object, key), key, &value, &err))
        fail_msg("%s", err.message);
    return value;
}

static void stats_have_the_runc_shape(void **state)
{
    struct fixture *f = *state;
    const struct cgroup_hierarchy *pids = hierarchy_of(f, "pids");
    struct cgroup_resources r;
    struct json_writer writer;
    yajl_val tree = NULL, cpu, usage, memory, raw;
    const char *text;
    size_t length;
    struct berr err;

    hierarchy_of(f, "cpuacct");
    hierarchy_of(f, "memory");
    memset(&r, 0, sizeof(r));
    r.pids_limit = (struct opt_i64){true, 10};
    apply(pids, &r);
    start_child(f, 2 * MIB);

    assert_int_equal(json_writer_init(&writer, false, &err), 0);
    json_object_begin(&writer);
    if (cgroup_v1_stats(&f->cgroup, &writer, &err))
        fail_msg("cgroup_v1_stats: %s", err.message);
    json_object_end(&writer);
    assert_int_equal(json_writer_result(&writer, &text, &length, &err), 0);
    print_message("%s\n", text);
    assert_int_equal(json_parse(text, &tree, &err), 0);
    json_writer_free(&writer);
    stop_child(f);

    cpu = member(tree, "cpu");
    usage = member(cpu, "usage");
    assert_true(number(usage, "total") > 0);
    assert_true(member(usage, "percpu")->u.array.len >= 1);
    number(usage, "kernel");
    number(usage, "user");

    memory = member(tree, "memory");
    assert_true(number(member(memory, "usage"), "usage") >= 2 * MIB);
    assert_true(number(member(memory, "usage"), "limit") > 0);
    number(member(memory, "usage"), "failcnt");
    raw = member(memory, "raw");
    assert_true(YAJL_IS_OBJECT(raw));
    number(raw, "rss");
    number(raw, "total_cache");

    assert_int_equal(number(member(tree, "pids"), "current"), 1);
    assert_int_equal(number(member(tree, "pids"), "limit"), 10);
    assert_true(YAJL_IS_OBJECT(member(tree, "blkio")));
    assert_true(YAJL_IS_OBJECT(member(tree, "hugetlb")));
    yajl_tree_free(tree);
}

/* The writer alone: runc's names, nesting, and omitted zeros. */
static void stats_json_matches_runc_exactly(void **state)
{
    struct cgroup_stats stats;
    struct cgroup_hugetlb_stat *huge;
    struct json_writer writer;
    const char *text;
    size_t length;
    struct berr err;
    (void)state;

    cgroup_stats_init(&stats);
    stats.cpu_total = 300;
    assert_int_equal(cgroup_stats_add_u64(&stats.cpu_percpu, 100, &err), 0);
    assert_int_equal(cgroup_stats_add_u64(&stats.cpu_percpu, 200, &err), 0);
    stats.cpu_user = 250;
    stats.memory_cache = 4096;
    stats.memory_usage = (struct cgroup_memory_entry){UINT64_MAX, 8192, 9000, 0};
    assert_int_equal(cgroup_stats_add_raw(&stats, "rss 10\ncache 4096\nbogus\n", &err), 0);
    stats.pids_current = 3;
    assert_int_equal(cgroup_stats_add_blkio(&stats, BLKIO_SERVICE_BYTES, 8, 0, "Read", 512, &err),
                     0);
    assert_int_equal(cgroup_stats_hugetlb(&stats, "2MB", &huge, &err), 0);
    assert_int_equal(cgroup_stats_hugetlb(&stats, "1GB", &huge, &err), 0);
    huge->usage = 1073741824;

    assert_int_equal(json_writer_init(&writer, false, &err), 0);
    json_object_begin(&writer);
    cgroup_stats_write(&stats, &writer);
    json_object_end(&writer);
    assert_int_equal(json_writer_result(&writer, &text, &length, &err), 0);
    assert_string_equal(
        text,
        "{\"cpu\":{\"usage\":{\"total\":300,\"percpu\":[100,200],\"kernel\":0,\"user\":250}},"
        "\"memory\":{\"cache\":4096,\"usage\":{\"limit\":18446744073709551615,"
        "\"usage\":8192,\"max\":9000,\"failcnt\":0},\"raw\":{\"cache\":4096,\"rss\":10}},"
        "\"pids\":{\"current\":3},"
        "\"blkio\":{\"ioServiceBytesRecursive\":[{\"major\":8,\"op\":\"Read\",\"value\":512}]},"
        "\"hugetlb\":{\"1GB\":{\"usage\":1073741824,\"failcnt\":0},\"2MB\":{\"failcnt\":0}}}");
    json_writer_free(&writer);
    cgroup_stats_free(&stats);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(memory_limits_are_written, setup, teardown),
        cmocka_unit_test_setup_teardown(memory_and_swap_are_ordered, setup, teardown),
        cmocka_unit_test_setup_teardown(kernel_memory_is_applied_or_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(non_hierarchical_memory_is_applied_or_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(cpu_bandwidth_is_written_in_a_valid_order, setup, teardown),
        cmocka_unit_test_setup_teardown(cpu_idle_and_realtime, setup, teardown),
        cmocka_unit_test_setup_teardown(cpuset_and_pids, setup, teardown),
        cmocka_unit_test_setup_teardown(blkio_weight_and_throttles, setup, teardown),
        cmocka_unit_test_setup_teardown(device_rules_are_written_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(other_hierarchies_are_left_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(errors_name_the_file_and_value, setup, teardown),
        cmocka_unit_test_setup_teardown(check_refuses_missing_controllers, setup, teardown),
        cmocka_unit_test_setup_teardown(check_before_update_refuses_a_limit_below_usage, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(stats_have_the_runc_shape, setup, teardown),
        cmocka_unit_test(stats_json_matches_runc_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
