/*
 * seccomp: see seccomp.h.
 *
 * Why parsing and compiling are separate steps: parsing runs with the rest of
 * config.json, so a bad profile is refused, with a message naming the field,
 * before anything is created. Compiling needs libseccomp, which allocates
 * with malloc, so it runs in the runtime process and leaves nothing but an
 * array of BPF instructions in the arena for the container process to load
 * with one system call.
 *
 * The meaning of a profile follows runc, for which the profiles in use
 * (Docker's, Podman's) are written: a system call name libseccomp does not
 * know is skipped, a rule whose action is the default action is dropped,
 * and several conditions on one argument make one rule per condition.
 */
#include "seccomp.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h> /* libseccomp's, not ours: see ociruntime/CMakeLists.txt */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "raw_syscall.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#define TABLE_SIZE(table) (sizeof(table) / sizeof((table)[0]))

/* Paths in messages: "syscalls[N]", "syscalls[N].args[M]", then a key. */
#define RULE_WHERE_MAX     32
#define ARGUMENT_WHERE_MAX 64
#define FIELD_MAX          96

/* The kernel's limit: seccomp's return data is 16 bits. */
#define ERRNO_RET_MAX 0xffff

/* A system call has at most six arguments. */
#define ARGUMENT_INDEX_MAX 5

/* ---- names ---- */

struct named_value {
    const char *name;
    uint32_t value;
};

/* SCMP_ACT_NOTIFY is in the spec too but refused (see parse_action). The
 * values are libseccomp's without data; ERRNO and TRACE get theirs when the
 * filter is built. */
static const struct named_value action_names[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG},
};

static const struct named_value operator_names[] = {
    {"SCMP_CMP_NE", SECCOMP_OP_NOT_EQUAL},           {"SCMP_CMP_LT", SECCOMP_OP_LESS_THAN},
    {"SCMP_CMP_LE", SECCOMP_OP_LESS_EQUAL},          {"SCMP_CMP_EQ", SECCOMP_OP_EQUAL},
    {"SCMP_CMP_GE", SECCOMP_OP_GREATER_EQUAL},       {"SCMP_CMP_GT", SECCOMP_OP_GREATER_THAN},
    {"SCMP_CMP_MASKED_EQ", SECCOMP_OP_MASKED_EQUAL},
};

static const struct named_value flag_names[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

/* WAIT_KILLABLE_RECV only changes how a notify listener's target waits, and
 * there is never a listener (SCMP_ACT_NOTIFY is refused), so the flag has
 * nothing to act on; the kernel would even refuse it without a listener. It
 * is accepted in a config and not passed on. */
#define FLAGS_PASSED_TO_KERNEL                                                                     \
    (SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW)

/* The spec's architecture names, with libseccomp's name for each. The parser
 * accepts them all; the compiler refuses those this libseccomp does not know. */
static const struct {
    const char *name;
    const char *libseccomp_name;
} architecture_names[] = {
    {"SCMP_ARCH_X86", "x86"},
    {"SCMP_ARCH_X86_64", "x86_64"},
    {"SCMP_ARCH_X32", "x32"},
    {"SCMP_ARCH_ARM", "arm"},
    {"SCMP_ARCH_AARCH64", "aarch64"},
    {"SCMP_ARCH_LOONGARCH64", "loongarch64"},
    {"SCMP_ARCH_M68K", "m68k"},
    {"SCMP_ARCH_MIPS", "mips"},
    {"SCMP_ARCH_MIPS64", "mips64"},
    {"SCMP_ARCH_MIPS64N32", "mips64n32"},
    {"SCMP_ARCH_MIPSEL", "mipsel"},
    {"SCMP_ARCH_MIPSEL64", "mipsel64"},
    {"SCMP_ARCH_MIPSEL64N32", "mipsel64n32"},
    {"SCMP_ARCH_PPC", "ppc"},
    {"SCMP_ARCH_PPC64", "ppc64"},
    {"SCMP_ARCH_PPC64LE", "ppc64le"},
    {"SCMP_ARCH_S390", "s390"},
    {"SCMP_ARCH_S390X", "s390x"},
    {"SCMP_ARCH_SH", "sh"},
    {"SCMP_ARCH_SHEB", "sheb"},
    {"SCMP_ARCH_PARISC", "parisc"},
    {"SCMP_ARCH_PARISC64", "parisc64"},
    {"SCMP_ARCH_RISCV64", "riscv64"},
};

static const struct named_value *find_named(const struct named_value *table, size_t count,
                                            const char *name)
{
    size_t i;

    for (i = 0; i < count; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

/* libseccomp's name for a spec architecture name, or NULL if the spec has none such. */
static const char *architecture_libseccomp_name(const char *name)
{
    size_t i;

    for (i = 0; i < TABLE_SIZE(architecture_names); i++)
        if (strcmp(architecture_names[i].name, name) == 0)
            return architecture_names[i].libseccomp_name;
    return NULL;
}

/* The architecture token, or 0 when this libseccomp does not know it. */
static uint32_t architecture_token(const char *name)
{
    const char *libseccomp_name = architecture_libseccomp_name(name);

    return libseccomp_name ? seccomp_arch_resolve_name(libseccomp_name) : 0;
}

const char *seccomp_action_name(uint32_t action)
{
    size_t i;

    for (i = 0; i < TABLE_SIZE(action_names); i++)
        if (action_names[i].value == action)
            return action_names[i].name;
    return NULL;
}

/* ---- parsing ---- */

static int out_of_memory(struct berr *err)
{
    return berr_set(err, BERR_NOMEM, "out of memory");
}

/* "syscalls[3].args[0]" and "op" give "syscalls[3].args[0].op"; at the top
 * level (where is NULL) the key alone. */
static const char *field_name(char *buffer, size_t size, const char *where, const char *key)
{
    if (!where)
        return key;
    snprintf(buffer, size, "%s.%s", where, key);
    return buffer;
}

static int require_string(yajl_val object, const char *where, const char *key, const char **out,
                          struct berr *err)
{
    char buffer[FIELD_MAX];
    const char *name = field_name(buffer, sizeof(buffer), where, key);
    yajl_val value = json_get(object, key);

    if (!value || YAJL_IS_NULL(value))
        return berr_set(err, BERR_INVALID, "%s is required", name);
    if (!YAJL_IS_STRING(value))
        return berr_set(err, BERR_INVALID, "%s must be a string, not %s", name,
                        json_type_name(value));
    *out = value->u.string;
    return 0;
}

/* An unsigned number; *present (if given) says whether it was there. */
static int get_number(yajl_val object, const char *where, const char *key, bool required,
                      uint64_t *out, bool *present, struct berr *err)
{
    char buffer[FIELD_MAX];
    const char *name = field_name(buffer, sizeof(buffer), where, key);
    yajl_val value = json_get(object, key);
    int rc;

    if (!value || YAJL_IS_NULL(value)) {
        if (required)
            return berr_set(err, BERR_INVALID, "%s is required", name);
        return 0;
    }
    rc = json_as_uint64(value, name, out, err);
    if (rc)
        return rc;
    if (present)
        *present = true;
    return 0;
}

static int parse_action(yajl_val object, const char *where, const char *key, uint32_t *out,
                        struct berr *err)
{
    char buffer[FIELD_MAX];
    const char *name = field_name(buffer, sizeof(buffer), where, key);
    const struct named_value *action;
    const char *text = NULL;
    int rc = require_string(object, where, key, &text, err);

    if (rc)
        return rc;
    /* NOTIFY hands the system call to a listener over a unix socket: a
     * feature of its own that berth does not provide. */
    if (strcmp(text, "SCMP_ACT_NOTIFY") == 0)
        return berr_set(err, BERR_UNSUPPORTED, "%s: SCMP_ACT_NOTIFY is not supported", name);
    action = find_named(action_names, TABLE_SIZE(action_names), text);
    if (!action)
        return berr_set(err, BERR_INVALID, "%s: unknown action %s", name, text);
    *out = action->value;
    return 0;
}

/* errnoRet or defaultErrnoRet: only for the actions that carry data. */
static int parse_errno_ret(yajl_val object, const char *where, const char *key, uint32_t action,
                           bool *present, uint32_t *out, struct berr *err)
{
    char buffer[FIELD_MAX];
    const char *name = field_name(buffer, sizeof(buffer), where, key);
    uint64_t number = 0;
    bool given = false;
    int rc = get_number(object, where, key, false, &number, &given, err);

    if (rc || !given)
        return rc;
    if (action != SCMP_ACT_ERRNO(0) && action != SCMP_ACT_TRACE(0))
        return berr_set(err, BERR_INVALID, "%s: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one",
                        name);
    if (number > ERRNO_RET_MAX)
        return berr_set(err, BERR_INVALID, "%s: %" PRIu64 " is above %d", name, number,
                        ERRNO_RET_MAX);
    *present = true;
    *out = (uint32_t)number;
    return 0;
}

/* listenerPath and listenerMetadata only serve SCMP_ACT_NOTIFY. */
static int refuse_listener(yajl_val object, struct berr *err)
{
    static const char *const keys[] = {"listenerPath", "listenerMetadata"};
    const char *text = NULL;
    size_t i;
    int rc;

    for (i = 0; i < TABLE_SIZE(keys); i++) {
        if ((rc = json_get_string(object, keys[i], &text, err)))
            return rc;
        if (text && *text)
            return berr_set(err, BERR_UNSUPPORTED, "%s: seccomp notify listeners are not supported",
                            keys[i]);
    }
    return 0;
}

static int parse_architectures(struct arena *arena, yajl_val object, struct seccomp_spec *spec,
                               struct berr *err)
{
    yajl_val array = NULL;
    char **names;
    size_t i;
    int rc = json_get_array(object, "architectures", &array, err);

    if (rc || !array)
        return rc;
    names = arena_alloc(arena, (array->u.array.len + 1) * sizeof(*names));
    if (!names)
        return out_of_memory(err);
    for (i = 0; i < array->u.array.len; i++) {
        yajl_val item = array->u.array.values[i];
        if (!YAJL_IS_STRING(item))
            return berr_set(err, BERR_INVALID, "architectures[%zu] must be a string, not %s", i,
                            json_type_name(item));
        if (!architecture_libseccomp_name(item->u.string))
            return berr_set(err, BERR_INVALID, "architectures[%zu]: unknown architecture %s", i,
                            item->u.string);
        names[i] = arena_strdup(arena, item->u.string);
        if (!names[i])
            return out_of_memory(err);
    }
    spec->architectures = names;
    return 0;
}

static int parse_flags(yajl_val object, unsigned *out, struct berr *err)
{
    yajl_val array = NULL;
    size_t i;
    int rc = json_get_array(object, "flags", &array, err);

    if (rc || !array)
        return rc;
    for (i = 0; i < array->u.array.len; i++) {
        yajl_val item = array->u.array.values[i];
        const struct named_value *flag;
        if (!YAJL_IS_STRING(item))
            return berr_set(err, BERR_INVALID, "flags[%zu] must be a string, not %s", i,
                            json_type_name(item));
        flag = find_named(flag_names, TABLE_SIZE(flag_names), item->u.string);
        if (!flag)
            return berr_set(err, BERR_INVALID, "flags[%zu]: unknown flag %s", i, item->u.string);
        *out |= flag->value;
    }
    return 0;
}

static int parse_names(struct arena *arena, yajl_val rule_object, const char *where,
                       struct seccomp_spec_rule *rule, struct berr *err)
{
    yajl_val array = json_get(rule_object, "names");
    size_t i;

    if (!array || YAJL_IS_NULL(array))
        return berr_set(err, BERR_INVALID, "%s.names is required", where);
    if (!YAJL_IS_ARRAY(array))
        return berr_set(err, BERR_INVALID, "%s.names must be an array, not %s", where,
                        json_type_name(array));
    if (array->u.array.len == 0)
        return berr_set(err, BERR_INVALID, "%s.names must not be empty", where);
    rule->names = arena_alloc(arena, (array->u.array.len + 1) * sizeof(*rule->names));
    if (!rule->names)
        return out_of_memory(err);
    for (i = 0; i < array->u.array.len; i++) {
        yajl_val item = array->u.array.values[i];
        if (!YAJL_IS_STRING(item))
            return berr_set(err, BERR_INVALID, "%s.names[%zu] must be a string, not %s", where, i,
                            json_type_name(item));
        rule->names[i] = arena_strdup(arena, item->u.string);
        if (!rule->names[i])
            return out_of_memory(err);
    }
    return 0;
}

static int parse_argument(yajl_val object, const char *where, struct seccomp_spec_argument *out,
                          struct berr *err)
{
    const struct named_value *op;
    const char *op_name = NULL;
    uint64_t index = 0;
    int rc;

    if (!YAJL_IS_OBJECT(object))
        return berr_set(err, BERR_INVALID, "%s must be an object, not %s", where,
                        json_type_name(object));
    if ((rc = get_number(object, where, "index", true, &index, NULL, err)) ||
        (rc = get_number(object, where, "value", true, &out->value, NULL, err)) ||
        (rc = get_number(object, where, "valueTwo", false, &out->value_two, NULL, err)) ||
        (rc = require_string(object, where, "op", &op_name, err)))
        return rc;
    if (index > ARGUMENT_INDEX_MAX)
        return berr_set(err, BERR_INVALID,
                        "%s.index: %" PRIu64 " is not a system call argument (0 to %d)", where,
                        index, ARGUMENT_INDEX_MAX);
    op = find_named(operator_names, TABLE_SIZE(operator_names), op_name);
    if (!op)
        return berr_set(err, BERR_INVALID, "%s.op: unknown operator %s", where, op_name);
    out->index = (unsigned)index;
    out->op = (enum seccomp_spec_operator)op->value;
    return 0;
}

static int parse_arguments(struct arena *arena, yajl_val rule_object, const char *where,
                           struct seccomp_spec_rule *rule, struct berr *err)
{
    char argument_where[ARGUMENT_WHERE_MAX];
    yajl_val array = json_get(rule_object, "args");
    size_t i;
    int rc;

    if (!array || YAJL_IS_NULL(array))
        return 0;
    if (!YAJL_IS_ARRAY(array))
        return berr_set(err, BERR_INVALID, "%s.args must be an array, not %s", where,
                        json_type_name(array));
    if (array->u.array.len == 0)
        return 0;
    rule->arguments = arena_alloc(arena, array->u.array.len * sizeof(*rule->arguments));
    if (!rule->arguments)
        return out_of_memory(err);
    for (i = 0; i < array->u.array.len; i++) {
        snprintf(argument_where, sizeof(argument_where), "%s.args[%zu]", where, i);
        if ((rc = parse_argument(array->u.array.values[i], argument_where, &rule->arguments[i],
                                 err)))
            return rc;
    }
    rule->argument_count = array->u.array.len;
    return 0;
}

static int parse_rule(struct arena *arena, yajl_val object, size_t index,
                      struct seccomp_spec_rule *rule, struct berr *err)
{
    char where[RULE_WHERE_MAX];
    int rc;

    snprintf(where, sizeof(where), "syscalls[%zu]", index);
    if (!YAJL_IS_OBJECT(object))
        return berr_set(err, BERR_INVALID, "%s must be an object, not %s", where,
                        json_type_name(object));
    if ((rc = parse_names(arena, object, where, rule, err)) ||
        (rc = parse_action(object, where, "action", &rule->action, err)) ||
        (rc = parse_errno_ret(object, where, "errnoRet", rule->action, &rule->has_errno_ret,
                              &rule->errno_ret, err)) ||
        (rc = parse_arguments(arena, object, where, rule, err)))
        return rc;
    return 0;
}

static int parse_rules(struct arena *arena, yajl_val object, struct seccomp_spec *spec,
                       struct berr *err)
{
    yajl_val array = NULL;
    size_t i;
    int rc = json_get_array(object, "syscalls", &array, err);

    if (rc || !array || array->u.array.len == 0)
        return rc;
    spec->rules = arena_alloc(arena, array->u.array.len * sizeof(*spec->rules));
    if (!spec->rules)
        return out_of_memory(err);
    for (i = 0; i < array->u.array.len; i++)
        if ((rc = parse_rule(arena, array->u.array.values[i], i, &spec->rules[i], err)))
            return rc;
    spec->rule_count = array->u.array.len;
    return 0;
}

int seccomp_spec_parse(struct arena *arena, yajl_val object, struct seccomp_spec **out,
                       struct berr *err)
{
    struct seccomp_spec *spec;
    int rc;

    if (!YAJL_IS_OBJECT(object))
        return berr_set(err, BERR_INVALID, "must be an object, not %s", json_type_name(object));
    spec = arena_alloc(arena, sizeof(*spec));
    if (!spec)
        return out_of_memory(err);
    if ((rc = refuse_listener(object, err)) ||
        (rc = parse_action(object, NULL, "defaultAction", &spec->default_action, err)) ||
        (rc = parse_errno_ret(object, NULL, "defaultErrnoRet", spec->default_action,
                              &spec->has_default_errno_ret, &spec->default_errno_ret, err)) ||
        (rc = parse_architectures(arena, object, spec, err)) ||
        (rc = parse_flags(object, &spec->filter_flags, err)) ||
        (rc = parse_rules(arena, object, spec, err)))
        return rc;
    *out = spec;
    return 0;
}

/* ---- compiling ---- */

/* The action with its data: for ERRNO the errno returned, for TRACE the
 * message the tracer sees. Without errnoRet both get EPERM, as with runc. */
static uint32_t action_with_data(uint32_t action, bool has_errno_ret, uint32_t errno_ret)
{
    uint32_t data = has_errno_ret ? errno_ret : EPERM;

    if (action == SCMP_ACT_ERRNO(0))
        return SCMP_ACT_ERRNO(data);
    if (action == SCMP_ACT_TRACE(0))
        return SCMP_ACT_TRACE(data);
    return action;
}

static enum scmp_compare libseccomp_operator(enum seccomp_spec_operator op)
{
    switch (op) {
    case SECCOMP_OP_NOT_EQUAL:
        return SCMP_CMP_NE;
    case SECCOMP_OP_LESS_THAN:
        return SCMP_CMP_LT;
    case SECCOMP_OP_LESS_EQUAL:
        return SCMP_CMP_LE;
    case SECCOMP_OP_EQUAL:
        return SCMP_CMP_EQ;
    case SECCOMP_OP_GREATER_EQUAL:
        return SCMP_CMP_GE;
    case SECCOMP_OP_GREATER_THAN:
        return SCMP_CMP_GT;
    case SECCOMP_OP_MASKED_EQUAL:
        return SCMP_CMP_MASKED_EQ;
    }
    return _SCMP_CMP_MIN; /* not reached: the parser only produces the above */
}

/* For MASKED_EQ, value is the mask and valueTwo what the masked argument must equal. */
static struct scmp_arg_cmp libseccomp_condition(const struct seccomp_spec_argument *argument)
{
    struct scmp_arg_cmp condition;

    condition.arg = argument->index;
    condition.op = libseccomp_operator(argument->op);
    condition.datum_a = argument->value;
    condition.datum_b = argument->value_two;
    return condition;
}

/* Does some argument index appear in more than one condition of the rule? */
static bool has_repeated_index(const struct seccomp_spec_rule *rule)
{
    unsigned seen = 0;
    size_t i;

    for (i = 0; i < rule->argument_count; i++) {
        unsigned bit = 1u << rule->arguments[i].index;
        if (seen & bit)
            return true;
        seen |= bit;
    }
    return false;
}

static int add_libseccomp_rule(scmp_filter_ctx context, uint32_t action, int number,
                               const struct scmp_arg_cmp *conditions, unsigned condition_count,
                               size_t rule_index, const char *name, struct berr *err)
{
    int rc = seccomp_rule_add_array(context, action, number, condition_count, conditions);

    if (rc < 0)
        return berr_set(err, BERR_INVALID, "syscalls[%zu]: libseccomp refused the rule for %s: %s",
                        rule_index, name, strerror(-rc));
    return 0;
}

/* One spec rule for one system call. libseccomp joins the conditions of a
 * rule with AND and refuses two on the same argument, which in a profile
 * mean "either" (Docker's lists several allowed values that way). So, as
 * runc does, when an index repeats every condition becomes a rule of its own:
 * the conditions are then joined with OR, across all indexes. */
static int add_system_call(scmp_filter_ctx context, const struct seccomp_spec_rule *rule,
                           uint32_t action, int number, size_t rule_index, const char *name,
                           struct berr *err)
{
    struct scmp_arg_cmp conditions[ARGUMENT_INDEX_MAX + 1];
    size_t i;
    int rc;

    if (has_repeated_index(rule)) {
        for (i = 0; i < rule->argument_count; i++) {
            conditions[0] = libseccomp_condition(&rule->arguments[i]);
            if ((rc = add_libseccomp_rule(context, action, number, conditions, 1, rule_index, name,
                                          err)))
                return rc;
        }
        return 0;
    }
    /* No index repeats, so there are at most six conditions. */
    for (i = 0; i < rule->argument_count; i++)
        conditions[i] = libseccomp_condition(&rule->arguments[i]);
    return add_libseccomp_rule(context, action, number, conditions, (unsigned)rule->argument_count,
                               rule_index, name, err);
}

static int add_rule(scmp_filter_ctx context, const struct seccomp_spec_rule *rule,
                    uint32_t default_action, size_t rule_index, struct berr *err)
{
    uint32_t action = action_with_data(rule->action, rule->has_errno_ret, rule->errno_ret);
    char **name;
    int rc;

    /* libseccomp refuses a rule that does what the default does anyway. */
    if (action == default_action)
        return 0;
    for (name = rule->names; *name; name++) {
        /* A name libseccomp does not know is skipped, as runc does: profiles
         * list system calls newer than the libseccomp at hand, and one that
         * libseccomp cannot name, the filter cannot match either. A name
         * known only on other architectures resolves to a negative
         * pseudo-number, which libseccomp applies where the call exists. */
        int number = seccomp_syscall_resolve_name(*name);
        if (number == __NR_SCMP_ERROR)
            continue;
        if ((rc = add_system_call(context, rule, action, number, rule_index, *name, err)))
            return rc;
    }
    return 0;
}

/* The native architecture is always in a new filter; these come on top. */
static int add_architectures(scmp_filter_ctx context, const struct seccomp_spec *spec,
                             struct berr *err)
{
    const struct scmp_version *version = seccomp_version();
    char **name;
    int rc;

    for (name = spec->architectures; name && *name; name++) {
        uint32_t token = architecture_token(*name);
        if (!token)
            return berr_set(err, BERR_UNSUPPORTED,
                            "architectures: %s is unknown to libseccomp %u.%u.%u", *name,
                            version->major, version->minor, version->micro);
        rc = seccomp_arch_add(context, token);
        if (rc < 0 && rc != -EEXIST)
            return berr_errno(err, -rc, "architectures: add %s", *name);
    }
    return 0;
}

/* A NULL program: a kernel that knows the flags gets as far as reading it
 * (EFAULT) and installs nothing; one that does not refuses them (EINVAL). */
static bool kernel_accepts_filter_flags(unsigned long flags)
{
    return raw_syscall3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, flags, NULL) == -EFAULT;
}

/* Checked here so that an old kernel gets a clear error now, not an EINVAL
 * from the container process later. */
static int check_kernel_flags(unsigned flags, struct berr *err)
{
    size_t i;

    for (i = 0; i < TABLE_SIZE(flag_names); i++) {
        unsigned flag = flag_names[i].value;
        if ((flags & flag) && (flag & FLAGS_PASSED_TO_KERNEL) && !kernel_accepts_filter_flags(flag))
            return berr_set(err, BERR_UNSUPPORTED, "flags: this kernel does not support %s",
                            flag_names[i].name);
    }
    return 0;
}

static int read_all(int fd, char *buffer, size_t size, struct berr *err)
{
    size_t done = 0;

    while (done < size) {
        ssize_t got = pread(fd, buffer + done, size - done, (off_t)done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return berr_errno(err, errno, "read the exported seccomp filter");
        if (got == 0)
            return berr_set(err, BERR_INTERNAL, "read the exported seccomp filter: short file");
        done += (size_t)got;
    }
    return 0;
}

/* libseccomp 2.5 exports only to a file descriptor: a memfd, then the arena. */
static int export_program(scmp_filter_ctx context, struct arena *arena, struct seccomp_program *out,
                          struct berr *err)
{
    struct stat status;
    size_t size, count;
    char *filter;
    int rc, fd = memfd_create("berth-seccomp", MFD_CLOEXEC);

    if (fd < 0)
        return berr_errno(err, errno, "memfd_create for the seccomp filter");
    rc = seccomp_export_bpf(context, fd);
    if (rc < 0) {
        rc = berr_errno(err, -rc, "export the seccomp filter");
        goto out;
    }
    if (fstat(fd, &status) < 0) {
        rc = berr_errno(err, errno, "stat the exported seccomp filter");
        goto out;
    }
    size = (size_t)status.st_size;
    count = size / sizeof(struct sock_filter);
    if (count == 0 || size % sizeof(struct sock_filter)) {
        rc = berr_set(err, BERR_INTERNAL, "libseccomp exported %zu bytes, not a BPF program", size);
        goto out;
    }
    if (count > BPF_MAXINSNS) {
        rc = berr_set(err, BERR_INVALID,
                      "the seccomp filter has %zu instructions, the kernel takes at most %d", count,
                      BPF_MAXINSNS);
        goto out;
    }
    filter = arena_alloc(arena, size);
    if (!filter) {
        rc = out_of_memory(err);
        goto out;
    }
    if ((rc = read_all(fd, filter, size, err)))
        goto out;
    out->filter = filter;
    out->length = (unsigned short)count;
out:
    close(fd);
    return rc;
}

int seccomp_compile(const struct seccomp_spec *spec, struct arena *arena,
                    struct seccomp_program *out, struct berr *err)
{
    uint32_t default_action = action_with_data(spec->default_action, spec->has_default_errno_ret,
                                               spec->default_errno_ret);
    scmp_filter_ctx context;
    size_t i;
    int rc;

    if ((rc = check_kernel_flags(spec->filter_flags, err)))
        return rc;
    context = seccomp_init(default_action);
    if (!context)
        return berr_set(err, BERR_UNSUPPORTED,
                        "defaultAction: libseccomp cannot build a filter with %s "
                        "(not supported by this kernel, or out of memory)",
                        seccomp_action_name(spec->default_action));
    rc = add_architectures(context, spec, err);
    for (i = 0; !rc && i < spec->rule_count; i++)
        rc = add_rule(context, &spec->rules[i], default_action, i, err);
    if (!rc)
        rc = export_program(context, arena, out, err);
    if (!rc)
        out->flags = spec->filter_flags & FLAGS_PASSED_TO_KERNEL;
    seccomp_release(context);
    return rc;
}

/* ---- loading ---- */

/* A raw system call: in a CLONE_VM child, errno is the parent's (see raw_syscall.h). */
int seccomp_load_program(const struct seccomp_program *program)
{
    struct sock_fprog fprog;

    fprog.len = program->length;
    fprog.filter = program->filter;
    return (int)raw_syscall3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, program->flags, &fprog);
}

/* ---- features ---- */

/* KILL_PROCESS and LOG need a kernel newer than the others (API level 3). */
static bool action_supported(uint32_t action, unsigned api_level)
{
    if (action == SCMP_ACT_KILL_PROCESS || action == SCMP_ACT_LOG)
        return api_level >= 3;
    return true;
}

static void write_names(struct json_writer *writer, const char *key,
                        const struct named_value *table, size_t count)
{
    size_t i;

    json_key(writer, key);
    json_array_begin(writer);
    for (i = 0; i < count; i++)
        json_string(writer, table[i].name);
    json_array_end(writer);
}

int seccomp_features(struct json_writer *writer)
{
    unsigned api_level = (unsigned)seccomp_api_get();
    size_t i;

    json_key(writer, "seccomp");
    json_object_begin(writer);
    json_kv_bool(writer, "enabled", kernel_accepts_filter_flags(0));

    json_key(writer, "actions");
    json_array_begin(writer);
    for (i = 0; i < TABLE_SIZE(action_names); i++)
        if (action_supported(action_names[i].value, api_level))
            json_string(writer, action_names[i].name);
    json_array_end(writer);

    write_names(writer, "operators", operator_names, TABLE_SIZE(operator_names));

    json_key(writer, "archs");
    json_array_begin(writer);
    for (i = 0; i < TABLE_SIZE(architecture_names); i++)
        if (architecture_token(architecture_names[i].name))
            json_string(writer, architecture_names[i].name);
    json_array_end(writer);

    write_names(writer, "knownFlags", flag_names, TABLE_SIZE(flag_names));

    json_key(writer, "supportedFlags");
    json_array_begin(writer);
    for (i = 0; i < TABLE_SIZE(flag_names); i++)
        if ((flag_names[i].value & FLAGS_PASSED_TO_KERNEL) &&
            kernel_accepts_filter_flags(flag_names[i].value))
            json_string(writer, flag_names[i].name);
    json_array_end(writer);

    json_object_end(writer);
    return writer->failed ? BERR_INTERNAL : 0;
}
