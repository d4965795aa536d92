/*
 * progress: the engine's JSON message streams (pull, load, push), shown the
 * way the docker CLI shows them on a non-terminal: one line per status
 * ("<id>: Pull complete"), raw "stream" text as is, byte-progress updates
 * skipped, and an error message inside the stream ends it as an error.
 * Also image references: what `run` says and asks for when it must pull.
 */
#ifndef BERTH_CLI_PROGRESS_H
#define BERTH_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>
#include <yajl/yajl_tree.h>

#include "berr.h"

struct progress {
    FILE *out;
    bool quiet; /* show only "stream" text that names a result (load -q) */
};

/* A jsonlines_fn: prints one message, or fails with an in-stream error. */
int progress_message(void *ctx, yajl_val message, struct berr *err);

struct image_ref {
    char name[512];     /* docker.io/library/busybox */
    char familiar[512]; /* busybox */
    char tag[128];      /* latest (empty with a digest) */
    char digest[160];   /* sha256:... */
};

/* Normalizes NAME[:TAG][@DIGEST] as docker's reference package does. */
int image_ref_parse(const char *text, struct image_ref *out, struct berr *err);

struct api;
/* POST /images/create?fromImage=...&tag=..., showing the progress on out. */
int image_pull(struct api *api, const char *image, const char *platform, bool quiet, FILE *out,
               struct berr *err);

#endif
