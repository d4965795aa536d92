/*
 * A supervisor store in a temporary directory for the unit tests: metadata,
 * content store, image store and collector, as berth-supervisord wires
 * them (ROOT/meta.lmdb, ROOT/content). Header-only: each test includes it.
 */
#ifndef BERTH_TEST_SUPERVISORD_STORE_FIXTURE_H
#define BERTH_TEST_SUPERVISORD_STORE_FIXTURE_H

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "content_store.h"
#include "gc.h"
#include "images.h"
#include "import.h"
#include "leases.h"
#include "metadata.h"

struct fixture {
    char root[128];
    char content_path[192];
    struct metadata *metadata;
    struct content_store *content;
    struct image_store *images;
    struct gc *gc;
    struct import_context import;
    bool mounted; /* a tmpfs on content_path */
};

static inline int remove_entry(const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void)info, (void)flag, (void)ftw;
    return remove(path);
}

static inline void remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* content_tmpfs_size > 0: the content store lives on a tmpfs of that many
 * bytes (to fill the disk); returns -1 when mounting is not possible. */
static inline int fixture_open(struct fixture *fixture, size_t content_tmpfs_size)
{
    char database[256];
    struct berr err = {0};

    memset(fixture, 0, sizeof(*fixture));
    snprintf(fixture->root, sizeof(fixture->root), "/tmp/berth-test-supervisord-XXXXXX");
    if (!mkdtemp(fixture->root))
        return -1;
    snprintf(fixture->content_path, sizeof(fixture->content_path), "%s/content", fixture->root);
    snprintf(database, sizeof(database), "%s/meta.lmdb", fixture->root);
    if (content_tmpfs_size) {
        char options[64];
        snprintf(options, sizeof(options), "size=%zu,mode=0700", content_tmpfs_size);
        if (mkdir(fixture->content_path, 0700) < 0 ||
            mount("tmpfs", fixture->content_path, "tmpfs", 0, options) < 0) {
            remove_tree(fixture->root);
            return -1;
        }
        fixture->mounted = true;
    }
    if (metadata_open(database, &fixture->metadata, &err) ||
        content_store_open(fixture->content_path, fixture->metadata, &fixture->content, &err) ||
        image_store_open(fixture->metadata, fixture->content, &fixture->images, &err) ||
        gc_open(fixture->metadata, fixture->content, &fixture->gc, &err)) {
        fprintf(stderr, "fixture: %s\n", err.message);
        return -1;
    }
    fixture->import.metadata = fixture->metadata;
    fixture->import.content = fixture->content;
    fixture->import.images = fixture->images;
    fixture->import.gc = fixture->gc;
    return 0;
}

static inline void fixture_close(struct fixture *fixture)
{
    gc_close(fixture->gc);
    image_store_close(fixture->images);
    content_store_close(fixture->content);
    metadata_close(fixture->metadata);
    if (fixture->mounted)
        umount2(fixture->content_path, MNT_DETACH);
    if (fixture->root[0])
        remove_tree(fixture->root);
    memset(fixture, 0, sizeof(*fixture));
}

/* Entries in ROOT/content/<sub> (blobs/sha256 or ingest). */
static inline int fixture_count(const struct fixture *fixture, const char *sub)
{
    char path[320];
    struct dirent *entry;
    int count = 0;
    DIR *listing;

    snprintf(path, sizeof(path), "%s/%s", fixture->content_path, sub);
    if (!(listing = opendir(path)))
        return -1;
    while ((entry = readdir(listing)))
        if (strcmp(entry->d_name, ".") && strcmp(entry->d_name, ".."))
            count++;
    closedir(listing);
    return count;
}

static inline int count_visit(const Berth__Supervisor__V1__ContentInfo *info, void *user)
{
    (void)info;
    (*(int *)user)++;
    return 0;
}

/* Content records of namespace matching one filter (NULL: all). */
static inline int fixture_content_count(struct fixture *fixture, const char *namespace,
                                        const char *filter)
{
    struct berr err = {0};
    int count = 0;
    const char *filters[1] = {filter};

    if (content_store_list(fixture->content, namespace, filters, filter ? 1 : 0, count_visit,
                           &count, &err))
        return -1;
    return count;
}

#endif
