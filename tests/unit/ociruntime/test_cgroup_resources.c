/* Unit tests of ociruntime/cgroup_resources: a full LinuxResources object,
 * absent and zero fields, and every kind of invalid input naming its field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cgroup_resources.h"
#include "json.h"

static const char full_example[] =
    "{"
    " \"memory\": {\"limit\": 536870912, \"reservation\": 268435456, \"swap\": 1073741824,"
    "   \"kernel\": -1, \"kernelTCP\": 8388608, \"swappiness\": 0, \"disableOOMKiller\": true,"
    "   \"useHierarchy\": true, \"checkBeforeUpdate\": true},"
    " \"cpu\": {\"shares\": 1024, \"quota\": 50000, \"burst\": 10000, \"period\": 100000,"
    "   \"realtimeRuntime\": 950000, \"realtimePeriod\": 1000000, \"cpus\": \"0-1\","
    "   \"mems\": \"0\", \"idle\": 1},"
    " \"pids\": {\"limit\": 32768},"
    " \"blockIO\": {\"weight\": 500, \"leafWeight\": 300,"
    "   \"weightDevice\": [{\"major\": 8, \"minor\": 0, \"weight\": 600, \"leafWeight\": 10},"
    "                      {\"major\": 8, \"minor\": 16, \"weight\": 1000}],"
    "   \"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 104857600}],"
    "   \"throttleWriteBpsDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 52428800}],"
    "   \"throttleReadIOPSDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 1000}],"
    "   \"throttleWriteIOPSDevice\": [{\"major\": 8, \"minor\": 0}]},"
    " \"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 209715200},"
    "                      {\"pageSize\": \"1GB\", \"limit\": 0}],"
    " \"devices\": [{\"allow\": false, \"access\": \"rwm\"},"
    "   {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"mwr\"},"
    "   {\"allow\": true, \"type\": \"b\", \"major\": 8, \"access\": \"r\"},"
    "   {\"allow\": false, \"type\": \"c\", \"minor\": -1}],"
    " \"network\": {\"classID\": 1048577,"
    "   \"priorities\": [{\"name\": \"eth0\", \"priority\": 500},"
    "                    {\"name\": \"lo\", \"priority\": 0}]},"
    " \"unified\": {\"memory.high\": \"400M\", \"io.latency\": \"8:0 target=75\"},"
    " \"rdma\": {}"
    "}";

struct parsed {
    struct arena arena;
    struct cgroup_resources resources;
    struct berr err;
    int rc;
};

/* Parses text into a fresh arena, then frees the JSON tree: everything the
 * result points to must live in the arena. */
static void parse(const char *text, struct parsed *out)
{
    yajl_val tree = NULL;
    struct berr err;

    arena_init(&out->arena);
    memset(&out->resources, 0, sizeof(out->resources));
    memset(&out->err, 0, sizeof(out->err));
    assert_int_equal(json_parse(text, &tree, &err), 0);
    out->rc = cgroup_resources_parse(&out->arena, tree, &out->resources, &out->err);
    yajl_tree_free(tree);
}

static void full_example_parses(void **state)
{
    struct parsed p;
    const struct cgroup_resources *r = &p.resources;
    (void)state;

    parse(full_example, &p);
    assert_int_equal(p.rc, 0);

    assert_true(r->memory_limit.set);
    assert_int_equal(r->memory_limit.value, 536870912);
    assert_int_equal(r->memory_reservation.value, 268435456);
    assert_int_equal(r->memory_swap.value, 1073741824);
    assert_true(r->memory_kernel.set);
    assert_int_equal(r->memory_kernel.value, -1);
    assert_int_equal(r->memory_kernel_tcp.value, 8388608);
    assert_true(r->memory_swappiness.set);
    assert_int_equal(r->memory_swappiness.value, 0);
    assert_true(r->has_disable_oom_killer && r->disable_oom_killer);
    assert_true(r->has_use_hierarchy && r->use_hierarchy);
    assert_true(r->check_before_update);

    assert_int_equal(r->cpu_shares.value, 1024);
    assert_int_equal(r->cpu_quota.value, 50000);
    assert_true(r->cpu_burst.set);
    assert_int_equal(r->cpu_burst.value, 10000);
    assert_int_equal(r->cpu_period.value, 100000);
    assert_int_equal(r->cpu_realtime_runtime.value, 950000);
    assert_int_equal(r->cpu_realtime_period.value, 1000000);
    assert_string_equal(r->cpuset_cpus, "0-1");
    assert_string_equal(r->cpuset_mems, "0");
    assert_true(r->cpu_idle.set);
    assert_int_equal(r->cpu_idle.value, 1);

    assert_true(r->pids_limit.set);
    assert_int_equal(r->pids_limit.value, 32768);

    assert_int_equal(r->blkio_weight.value, 500);
    assert_int_equal(r->blkio_leaf_weight.value, 300);
    assert_int_equal(r->blkio_weight_device_count, 2);
    assert_int_equal(r->blkio_weight_devices[0].major, 8);
    assert_int_equal(r->blkio_weight_devices[0].minor, 0);
    assert_int_equal(r->blkio_weight_devices[0].weight.value, 600);
    assert_int_equal(r->blkio_weight_devices[0].leaf_weight.value, 10);
    assert_int_equal(r->blkio_weight_devices[1].minor, 16);
    assert_false(r->blkio_weight_devices[1].leaf_weight.set);
    assert_int_equal(r->throttle_read_bps.count, 1);
    assert_int_equal(r->throttle_read_bps.items[0].rate, 104857600);
    assert_int_equal(r->throttle_write_bps.items[0].rate, 52428800);
    assert_int_equal(r->throttle_read_iops.items[0].rate, 1000);
    assert_int_equal(r->throttle_write_iops.count, 1);
    assert_int_equal(r->throttle_write_iops.items[0].rate, 0); /* absent: no limit */

    assert_int_equal(r->hugepage_limit_count, 2);
    assert_string_equal(r->hugepage_limits[0].page_size, "2MB");
    assert_int_equal(r->hugepage_limits[0].limit, 209715200);
    assert_string_equal(r->hugepage_limits[1].page_size, "1GB");

    assert_int_equal(r->device_count, 4);
    assert_false(r->devices[0].allow);
    assert_int_equal(r->devices[0].type, 'a');
    assert_int_equal(r->devices[0].major, -1);
    assert_int_equal(r->devices[0].minor, -1);
    assert_string_equal(r->devices[0].access, "rwm");
    assert_true(r->devices[1].allow);
    assert_int_equal(r->devices[1].type, 'c');
    assert_int_equal(r->devices[1].major, 1);
    assert_int_equal(r->devices[1].minor, 3);
    assert_string_equal(r->devices[1].access, "rwm"); /* "mwr", canonical order */
    assert_int_equal(r->devices[2].type, 'b');
    assert_int_equal(r->devices[2].minor, -1);
    assert_string_equal(r->devices[2].access, "r");
    assert_int_equal(r->devices[3].major, -1);
    assert_string_equal(r->devices[3].access, "rwm"); /* absent: all */

    assert_true(r->network_class_id.set);
    assert_int_equal(r->network_class_id.value, 1048577);
    assert_int_equal(r->network_priority_count, 2);
    assert_string_equal(r->network_priorities[0].interface, "eth0");
    assert_int_equal(r->network_priorities[0].priority, 500);
    assert_string_equal(r->network_priorities[1].interface, "lo");

    assert_int_equal(r->unified_count, 2);
    assert_string_equal(r->unified[0].key, "memory.high");
    assert_string_equal(r->unified[0].value, "400M");
    assert_string_equal(r->unified[1].key, "io.latency");
    assert_string_equal(r->unified[1].value, "8:0 target=75");
    arena_release(&p.arena);
}

static void absent_fields_stay_unset(void **state)
{
    struct parsed p;
    struct cgroup_resources empty;
    (void)state;

    memset(&empty, 0, sizeof(empty));
    parse("{}", &p);
    assert_int_equal(p.rc, 0);
    assert_memory_equal(&p.resources, &empty, sizeof(empty));
    arena_release(&p.arena);

    parse("{\"memory\": {}, \"cpu\": {\"cpus\": \"\"}, \"blockIO\": {}, \"network\": {},"
          " \"devices\": [], \"unified\": {}, \"pids\": null}",
          &p);
    assert_int_equal(p.rc, 0);
    assert_null(p.resources.cpuset_cpus);
    assert_false(p.resources.memory_limit.set);
    assert_false(p.resources.network_class_id.set);
    assert_int_equal(p.resources.device_count, 0);
    arena_release(&p.arena);
}

/* runc's "zero means not given", for the fields that have no useful zero. */
static void zero_means_unset_where_runc_says_so(void **state)
{
    struct parsed p;
    const struct cgroup_resources *r = &p.resources;
    (void)state;

    parse("{\"memory\": {\"limit\": 0, \"reservation\": 0, \"swap\": 0, \"kernel\": 0,"
          "  \"kernelTCP\": 0, \"swappiness\": 0},"
          " \"cpu\": {\"shares\": 0, \"quota\": 0, \"period\": 0, \"realtimeRuntime\": 0,"
          "  \"realtimePeriod\": 0, \"burst\": 0, \"idle\": 0},"
          " \"blockIO\": {\"weight\": 0, \"leafWeight\": 0},"
          " \"pids\": {\"limit\": 0}, \"network\": {\"classID\": 0}}",
          &p);
    assert_int_equal(p.rc, 0);
    assert_false(r->memory_limit.set);
    assert_false(r->memory_reservation.set);
    assert_false(r->memory_swap.set);
    assert_false(r->memory_kernel.set);
    assert_false(r->memory_kernel_tcp.set);
    assert_false(r->cpu_shares.set);
    assert_false(r->cpu_quota.set);
    assert_false(r->cpu_period.set);
    assert_false(r->cpu_realtime_runtime.set);
    assert_false(r->cpu_realtime_period.set);
    assert_false(r->blkio_weight.set);
    assert_false(r->blkio_leaf_weight.set);
    /* These have a meaning at zero and stay set. */
    assert_true(r->memory_swappiness.set);
    assert_true(r->cpu_burst.set);
    assert_true(r->cpu_idle.set);
    assert_true(r->pids_limit.set);
    assert_true(r->network_class_id.set);
    arena_release(&p.arena);

    /* -1 is unlimited, and swap may be -1 with a limit. */
    parse("{\"memory\": {\"limit\": 1048576, \"swap\": -1}, \"cpu\": {\"quota\": -1}}", &p);
    assert_int_equal(p.rc, 0);
    assert_int_equal(r->memory_swap.value, -1);
    assert_int_equal(r->cpu_quota.value, -1);
    arena_release(&p.arena);
}

struct invalid_case {
    const char *json;
    const char *message; /* a part of the error message */
};

static const struct invalid_case invalid_cases[] = {
    {"[]", "resources must be an object, not an array"},
    {"{\"memory\": []}", "\"memory\" must be an object"},
    {"{\"memory\": {\"limit\": \"1G\"}}", "memory: \"limit\" must be an integer"},
    {"{\"memory\": {\"limit\": 1.5}}", "memory: \"limit\" must be an integer"},
    {"{\"memory\": {\"limit\": -2}}", "memory: \"limit\" must be -1 (unlimited)"},
    {"{\"memory\": {\"reservation\": -7}}", "memory: \"reservation\" must be -1"},
    {"{\"memory\": {\"kernelTCP\": -9}}", "memory: \"kernelTCP\""},
    {"{\"memory\": {\"swappiness\": 101}}",
     "memory: \"swappiness\" must be between 0 and 100, not 101"},
    {"{\"memory\": {\"swappiness\": -1}}", "memory: \"swappiness\" must be an unsigned integer"},
    {"{\"memory\": {\"limit\": 2048, \"swap\": 1024}}", "memory: \"swap\""},
    {"{\"memory\": {\"disableOOMKiller\": 1}}", "memory: \"disableOOMKiller\" must be a boolean"},
    {"{\"memory\": {\"useHierarchy\": \"yes\"}}", "memory: \"useHierarchy\" must be a boolean"},
    {"{\"cpu\": {\"shares\": 1}}", "cpu: \"shares\" must be between 2 and 262144, not 1"},
    {"{\"cpu\": {\"shares\": 262145}}", "cpu: \"shares\" must be between 2 and 262144"},
    {"{\"cpu\": {\"quota\": -5}}", "cpu: \"quota\" must be -1 (unlimited)"},
    {"{\"cpu\": {\"period\": -1}}", "cpu: \"period\" must be an unsigned integer"},
    {"{\"cpu\": {\"realtimeRuntime\": -3}}", "cpu: \"realtimeRuntime\" must be -1"},
    {"{\"cpu\": {\"burst\": \"1\"}}", "cpu: \"burst\" must be an unsigned integer"},
    {"{\"cpu\": {\"idle\": 2}}", "cpu: \"idle\" must be 0 or 1, not 2"},
    {"{\"cpu\": {\"cpus\": \"0-3; reboot\"}}", "cpu: \"cpus\" is not a list"},
    {"{\"cpu\": {\"mems\": 0}}", "cpu: \"mems\" must be a string"},
    {"{\"pids\": {}}", "pids: \"limit\" is required"},
    {"{\"pids\": {\"limit\": \"max\"}}", "pids: \"limit\" must be an integer"},
    {"{\"blockIO\": {\"weight\": 5}}", "blockIO: \"weight\" must be between 10 and 1000, not 5"},
    {"{\"blockIO\": {\"leafWeight\": 2000}}", "blockIO: \"leafWeight\" must be between 10"},
    {"{\"blockIO\": {\"weightDevice\": {}}}", "blockIO: \"weightDevice\" must be an array"},
    {"{\"blockIO\": {\"weightDevice\": [{\"minor\": 0, \"weight\": 100}]}}",
     "blockIO: weightDevice[0]: \"major\" is required"},
    {"{\"blockIO\": {\"weightDevice\": [{\"major\": 8, \"minor\": -1}]}}",
     "blockIO: weightDevice[0]: \"minor\" must be between 0 and 4294967295, not -1"},
    {"{\"blockIO\": {\"weightDevice\": [{\"major\": 8, \"minor\": 0, \"weight\": 9}]}}",
     "blockIO: weightDevice[0]: \"weight\" must be between 10 and 1000"},
    {"{\"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0}, 7]}}",
     "blockIO: throttleReadBpsDevice[1] must be an object, not a number"},
    {"{\"blockIO\": {\"throttleWriteIOPSDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": -1}]}}",
     "blockIO: throttleWriteIOPSDevice[0]: \"rate\" must be an unsigned integer"},
    {"{\"hugepageLimits\": [{\"limit\": 1}]}", "hugepageLimits[0]: \"pageSize\" is required"},
    {"{\"hugepageLimits\": [{\"pageSize\": \"2MB\"}]}", "hugepageLimits[0]: \"limit\" is required"},
    {"{\"hugepageLimits\": [{\"pageSize\": \"2MB/../../x\", \"limit\": 1}]}",
     "hugepageLimits[0]: \"pageSize\" must look like 2MB"},
    {"{\"hugepageLimits\": [{\"pageSize\": \"02MB\", \"limit\": 1}]}", "\"pageSize\""},
    {"{\"hugepageLimits\": [{\"pageSize\": \"2mb\", \"limit\": 1}]}", "\"pageSize\""},
    {"{\"hugepageLimits\": [{\"pageSize\": \"2TB\", \"limit\": 1}]}", "\"pageSize\""},
    {"{\"hugepageLimits\": [{\"pageSize\": \"MB\", \"limit\": 1}]}", "\"pageSize\""},
    {"{\"devices\": {}}", "\"devices\" must be an array"},
    {"{\"devices\": [\"a\"]}", "devices[0] must be an object, not a string"},
    {"{\"devices\": [{\"access\": \"rwm\"}]}", "devices[0]: \"allow\" is required"},
    {"{\"devices\": [{\"allow\": \"no\"}]}", "devices[0]: \"allow\" must be a boolean"},
    {"{\"devices\": [{\"allow\": true, \"type\": \"u\"}]}",
     "devices[0]: \"type\" must be \"a\", \"c\" or \"b\", not \"u\""},
    {"{\"devices\": [{\"allow\": true, \"type\": \"c\", \"access\": \"rwx\"}]}",
     "devices[0]: \"access\" must be made of r, w and m"},
    {"{\"devices\": [{\"allow\": true, \"type\": \"c\", \"major\": -2}]}",
     "devices[0]: \"major\" must be -1 (any)"},
    {"{\"devices\": [{\"allow\": true, \"type\": \"c\", \"minor\": 4294967296}]}",
     "devices[0]: \"minor\" must be -1 (any)"},
    {"{\"devices\": [{\"allow\": true}, {\"allow\": false, \"major\": 1}]}",
     "devices[1]: a rule of type \"a\" covers every device"},
    {"{\"devices\": [{\"allow\": false, \"type\": \"a\", \"access\": \"m\"}]}",
     "devices[0]: a rule of type \"a\""},
    {"{\"network\": {\"classID\": 4294967296}}",
     "network: \"classID\" must be between 0 and 4294967295"},
    {"{\"network\": {\"priorities\": [{\"name\": \"eth0\"}]}}",
     "network: priorities[0]: \"priority\" is required"},
    {"{\"network\": {\"priorities\": [{\"priority\": 1}]}}",
     "network: priorities[0]: \"name\" is required"},
    {"{\"network\": {\"priorities\": [{\"name\": \"eth 0\", \"priority\": 1}]}}",
     "network: priorities[0]: \"name\" is not a network interface name"},
    {"{\"network\": {\"priorities\": [{\"name\": \"a-very-long-interface\", \"priority\": 1}]}}",
     "\"name\" is not a network interface name"},
    {"{\"network\": {\"priorities\": [{\"name\": \"eth0\", \"priority\": 4294967296}]}}",
     "network: priorities[0]: \"priority\" is out of range"},
    {"{\"unified\": []}", "\"unified\" must be an object"},
    {"{\"unified\": {\"../memory.max\": \"1\"}}",
     "unified: \"../memory.max\" is not a cgroup file name"},
    {"{\"unified\": {\"a/b\": \"1\"}}", "unified: \"a/b\" is not a cgroup file name"},
    {"{\"unified\": {\".\": \"1\"}}", "unified: \".\" is not a cgroup file name"},
    {"{\"unified\": {\"..\": \"1\"}}", "unified: \"..\" is not a cgroup file name"},
    {"{\"unified\": {\"\": \"1\"}}", "unified: \"\" is not a cgroup file name"},
    {"{\"unified\": {\"memory.max\": 1}}",
     "unified: \"memory.max\" must be a string, not a number"},
};

static void invalid_input_names_the_field(void **state)
{
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(invalid_cases) / sizeof(invalid_cases[0]); i++) {
        struct parsed p;
        parse(invalid_cases[i].json, &p);
        if (p.rc != BERR_INVALID || !strstr(p.err.message, invalid_cases[i].message))
            fail_msg("case %zu %s: rc %d, message \"%s\", wanted \"%s\"", i, invalid_cases[i].json,
                     p.rc, p.err.message, invalid_cases[i].message);
        arena_release(&p.arena);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_example_parses),
        cmocka_unit_test(absent_fields_stay_unset),
        cmocka_unit_test(zero_means_unset_where_runc_says_so),
        cmocka_unit_test(invalid_input_names_the_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
