/*
 * image_lookup: the image a container is created from, found the way
 * dockerd finds it: a full image ID (the config digest, with or without
 * "sha256:"), a name (normalised: "busybox" is
 * docker.io/library/busybox:latest), or a unique ID prefix.
 *
 * Images live in the supervisor under their normalised names; their
 * Docker ID is the config descriptor's digest (Images.Config), so lookups
 * by ID walk the image list. The images API (api_images.c) has the same
 * need; this is the containers' side of it, kept small.
 */
#ifndef BERTH_ENGINED_IMAGE_LOOKUP_H
#define BERTH_ENGINED_IMAGE_LOOKUP_H

#include "berr.h"
#include "grpc_client.h"
#include "json.h"

struct image_found {
    char *name;           /* the supervisor's image name */
    char *id;             /* "sha256:<hex>" of the config */
    yajl_val config_file; /* the whole image config (OCI/Docker) */
    yajl_val config;      /* its "config" object, or NULL */
};

/* BERR_NOT_FOUND "No such image: REF" (what makes `docker run` pull),
 * BERR_INVALID for a malformed name. */
int image_lookup(struct rpc_client *supervisor, const char *ref, struct image_found *out,
                 struct berr *err);
void image_found_free(struct image_found *image);

/* Just the ID ("sha256:...", malloc'ed) of the image ref names, for the
 * "ancestor" filter. */
int image_lookup_id(struct rpc_client *supervisor, const char *ref, char **id, struct berr *err);

#endif
