/*
 * reference: image names as Docker spells them, normalised the way the
 * docker CLI and dockerd do ("busybox" is docker.io/library/busybox:latest).
 *
 * The engine stores images in the supervisor under the full normalised
 * name (docker.io/library/busybox:latest) and shows the familiar one
 * (busybox:latest), so both spellings, and a digest, find the same image.
 */
#ifndef BERTH_ENGINED_REFERENCE_H
#define BERTH_ENGINED_REFERENCE_H

#include <stdbool.h>

#include "berr.h"

#define REFERENCE_DEFAULT_DOMAIN "docker.io"
#define REFERENCE_DEFAULT_TAG    "latest"

struct image_reference {
    char *domain; /* "docker.io", "localhost:5000" */
    char *path;   /* "library/busybox" */
    char *tag;    /* NULL when there is none */
    char *digest; /* "sha256:...", NULL when there is none */
};

/* Parses and normalises text. BERR_INVALID with Docker's wording for a
 * malformed or uppercase name. No tag and no digest: tag stays NULL (call
 * reference_default_tag for "latest"). */
int reference_parse(const char *text, struct image_reference *out, struct berr *err);
void reference_free(struct image_reference *reference);

/* Sets the tag to "latest" when the reference has neither tag nor digest. */
int reference_default_tag(struct image_reference *reference, struct berr *err);

/* "docker.io/library/busybox:latest" (malloc'ed; NULL when out of memory). */
char *reference_string(const struct image_reference *reference);
/* "docker.io/library/busybox" */
char *reference_name(const struct image_reference *reference);
/* The short form Docker displays: "busybox:latest", "localhost:5000/x:1". */
char *reference_familiar(const struct image_reference *reference);
/* familiar form of a full string ("docker.io/library/busybox:latest" →
 * "busybox:latest"); a copy of text when it does not parse. */
char *reference_familiar_of(const char *text);

/* "sha256:<64 hex>" or 64 hex digits: an image ID written out in full. */
bool reference_is_full_id(const char *text);
/* 1 to 64 hex digits, optionally "sha256:"-prefixed: possibly a short ID. */
bool reference_is_id_prefix(const char *text);

#endif
