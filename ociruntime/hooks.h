/*
 * hooks: the OCI lifecycle hooks, each run with the container's state JSON
 * on its stdin, waited for, and killed when its timeout passes.
 *
 * The same code runs in the runtime (prestart, createRuntime, poststart,
 * poststop) and in the container process (createContainer and
 * startContainer, which run in the container's namespaces), so it follows
 * the container process's rules (init.h): hooks are started with a
 * vfork-style clone on a static stack, without allocating.
 */
#ifndef BERTH_RUNTIME_HOOKS_H
#define BERTH_RUNTIME_HOOKS_H

#include "berr.h"
#include "spec.h"

const char *hooks_kind_name(enum spec_hook_kind kind);

/* Runs every hook of list in order; the first failure stops the list.
 * state_json is written to each hook's stdin. */
int hooks_run(const struct spec_hook_list *list, enum spec_hook_kind kind, const char *state_json,
              struct berr *err);

#endif
