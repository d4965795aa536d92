/*
 * api_images: the images part of the Docker Engine API (api_images.c:
 * list, inspect, history, tag, remove, prune, and the registry calls berth
 * does not make yet; api_images_archive.c: load and save), and what
 * /system/df and /info (api_system.c) take from it.
 */
#ifndef BERTH_ENGINED_API_IMAGES_H
#define BERTH_ENGINED_API_IMAGES_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "image_store.h"
#include "json.h"

/* Publishes an image event: actor id (the image ID, or a name for pull),
 * attribute "name", plus the image's config labels when info is given
 * (Docker's image events carry them, so label filters apply). */
void api_images_event(struct engine *engine, const char *action, const char *id, const char *name,
                      const struct image_info *info);

/* /system/df's Images: every image as an ImageSummary with SharedSize and
 * Containers counted; *layers_size: the bytes of all distinct layers. */
int api_images_write_usage(struct engine *engine, struct json_writer *writer, int api_version,
                           int64_t *layers_size, struct berr *err);

/* The archive routes (api_images_archive.c): load and save. */
int api_images_archive_register(struct engine *engine, struct berr *err);

/* Familiar names ("busybox:latest") of entry's names of one kind: a
 * NULL-terminated array to free with json_free_string_array. */
char **api_images_familiar_names(const struct image_entry *entry, enum image_name_kind kind);

#endif
