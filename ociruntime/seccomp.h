/*
 * seccomp: the "linux.seccomp" object of the OCI spec, parsed, compiled to a
 * BPF program with libseccomp in the runtime process, and loaded by the
 * container process with a bare seccomp(2) call just before it execs.
 *
 * Why compile in the parent: the container process shares the runtime's
 * memory (CLONE_VM) and must not call malloc, which libseccomp does. The
 * compiled program is plain memory in the arena.
 */
#ifndef BERTH_RUNTIME_SECCOMP_H
#define BERTH_RUNTIME_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "arena.h"
#include "berr.h"

struct json_writer; /* json.h */

enum seccomp_spec_operator {
    SECCOMP_OP_NOT_EQUAL,
    SECCOMP_OP_LESS_THAN,
    SECCOMP_OP_LESS_EQUAL,
    SECCOMP_OP_EQUAL,
    SECCOMP_OP_GREATER_EQUAL,
    SECCOMP_OP_GREATER_THAN,
    SECCOMP_OP_MASKED_EQUAL,
};

struct seccomp_spec_argument {
    unsigned index;
    uint64_t value;
    uint64_t value_two;
    enum seccomp_spec_operator op;
};

struct seccomp_spec_rule {
    char **names;    /* NULL-terminated syscall names */
    uint32_t action; /* SCMP_ACT_* without the errno/trace data */
    bool has_errno_ret;
    uint32_t errno_ret;
    struct seccomp_spec_argument *arguments;
    size_t argument_count;
};

struct seccomp_spec {
    uint32_t default_action;
    bool has_default_errno_ret;
    uint32_t default_errno_ret;
    char **architectures;  /* "SCMP_ARCH_X86_64", ... NULL-terminated, may be NULL */
    unsigned filter_flags; /* SECCOMP_FILTER_FLAG_* from "flags" */
    struct seccomp_spec_rule *rules;
    size_t rule_count;
};

/* A compiled filter, ready for seccomp(SECCOMP_SET_MODE_FILTER). */
struct seccomp_program {
    void *filter;          /* struct sock_filter[] */
    unsigned short length; /* number of instructions */
    unsigned flags;        /* SECCOMP_FILTER_FLAG_* */
};

/* Parses a LinuxSeccomp object. *out is set (never NULL on success). */
int seccomp_spec_parse(struct arena *arena, yajl_val object, struct seccomp_spec **out,
                       struct berr *err);

/* Builds the BPF program with libseccomp; the program lives in the arena. */
int seccomp_compile(const struct seccomp_spec *spec, struct arena *arena,
                    struct seccomp_program *out, struct berr *err);

/* Loads a compiled program into the calling process. Safe in a CLONE_VM
 * child: no allocation, one system call. Returns 0 or -errno. */
int seccomp_load_program(const struct seccomp_program *program);

/* Writes the "seccomp" member of the OCI features document (features-linux.json)
 * into an object the caller has opened. Returns 0, or BERR_INTERNAL when the
 * writer has failed (json_writer_result then says more). */
int seccomp_features(struct json_writer *writer);

/* "SCMP_ACT_ERRNO", ... for a rule's or the default action (without its data);
 * NULL for a value seccomp_spec_parse never produces. */
const char *seccomp_action_name(uint32_t action);

#endif
