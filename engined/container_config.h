/*
 * container_config: a create request's Config and HostConfig made into
 * what the container keeps, as dockerd does it.
 *
 * Why a module: the rules are many and exact, and clients see the result
 * in inspect. Config is the request merged with the image's config (user
 * wins; image Env entries whose key the user did not set are appended;
 * image labels added; Entrypoint/Cmd: an empty user Entrypoint takes the
 * image's, and then an empty user Cmd takes the image's too; an
 * Entrypoint of [""] means "none, not even the image's"), with a default
 * Hostname (the first 12 digits of the id, or the host's name with the
 * host network). HostConfig gets every field Docker shows, with Docker's
 * defaults, after the resource checks Docker makes at create (400s with
 * Docker's wording). The texts are then container_settings_make's input.
 */
#ifndef BERTH_ENGINED_CONTAINER_CONFIG_H
#define BERTH_ENGINED_CONTAINER_CONFIG_H

#include <stdbool.h>

#include "berr.h"
#include "json.h"

struct container_config_input {
    yajl_val request;      /* the create body: Config fields, HostConfig, NetworkingConfig */
    yajl_val image_config; /* the image config's "config" object; NULL: none */
    const char *id;
};

struct container_config_output {
    char *config;      /* JSON text */
    char *host_config; /* JSON text */
    char *path;        /* the process: Path and Args as inspect shows them */
    char **args;       /* NULL-terminated */
    char **warnings;   /* NULL-terminated, may be empty */
};

int container_config_build(const struct container_config_input *input,
                           struct container_config_output *out, struct berr *err);
void container_config_output_free(struct container_config_output *out);

/*
 * POST /containers/{id}/update: host_config with the update's resource
 * fields and RestartPolicy applied (others ignored), checked as at create.
 * *out: the new HostConfig text. *resources_changed: a field that the
 * running task's cgroups hold changed.
 */
int container_config_update(yajl_val host_config, yajl_val update, bool auto_remove, char **out,
                            bool *resources_changed, struct berr *err);

/* Splits a Cmd/Entrypoint value (a string or an array of strings) into a
 * NULL-terminated vector; *out NULL when absent or null. */
int container_config_str_slice(yajl_val value, const char *what, char ***out, struct berr *err);

#endif
