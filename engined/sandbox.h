/*
 * sandbox: what a container gets from the engine besides its image: a
 * network namespace and its /etc/hosts, /etc/hostname and
 * /etc/resolv.conf.
 *
 * Networking proper (bridges, addresses, ports) is a later stage. Until
 * then a container either shares the host's network (NetworkMode "host")
 * or gets a namespace of its own with only loopback, up. The engine makes
 * that namespace itself (architecture.md: the engine creates it, the
 * runtime joins it by path), bind-mounted at STATE/netns/ID so that it
 * outlives the container's processes, restarts reuse it and the network
 * code to come can wire it before the task starts. It is released when
 * the container is removed.
 *
 * The files are written before every start (so a changed host
 * resolv.conf reaches restarted containers) into the container's
 * directory and bind-mounted by the spec.
 */
#ifndef BERTH_ENGINED_SANDBOX_H
#define BERTH_ENGINED_SANDBOX_H

#include "berr.h"
#include "container_store.h"

/* STATE/netns/ID (malloc'ed). */
char *sandbox_netns_path(const char *state_dir, const char *id);

/* Makes the container's network namespace (lo up) unless it exists. */
int sandbox_netns_create(const char *state_dir, const char *id, struct berr *err);
/* Unmounts and removes it (absent: nothing to do). */
void sandbox_netns_remove(const char *state_dir, const char *id);
/* At engine start: namespaces of containers that are gone. keep(id, ctx)
 * says which to keep. */
void sandbox_netns_cleanup(const char *state_dir, int (*keep)(const char *id, void *context),
                           void *context);

/* Writes hosts, hostname and resolv.conf for the container. */
int sandbox_write_files(const struct container *container,
                        const struct container_settings *settings, struct berr *err);

#endif
