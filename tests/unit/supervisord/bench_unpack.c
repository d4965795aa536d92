/* bench_unpack: unpack throughput of supervisord/unpack, not a test.
 *
 *     build/tests/unit/bench_unpack [SIZE_MB] [RUNS]     (default 100 MB, 3 runs)
 *
 * Makes a layer of about SIZE_MB of "random-ish" files (512 B to 1 MiB,
 * most of them small; each half random bytes and half repetitive text, so
 * gzip and zstd shrink the layer to about half) in a temporary directory, compresses it with the
 * gzip and zstd command-line tools at their default levels, then times
 * unpack_layer into a fresh active snapshot for each, and GNU tar
 * extracting the same blobs for comparison. Prints the median MB/s of the
 * uncompressed stream. The blobs are in the page cache (they were just
 * written): this measures decompression, hashing and file creation, plus
 * the syncfs unpack_layer ends with. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dirtree.h"
#include "metadata.h"
#include "snapshots.h"
#include "unpack.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t next_random(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double seconds(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Writes the layer; returns its uncompressed file count. */
static int make_layer(const char *path, uint64_t target_bytes, uint64_t *written)
{
    static const char text[] = "the quick brown fox jumps over the lazy dog 0123456789 ";
    struct archive *archive = archive_write_new();
    struct archive_entry *entry = archive_entry_new();
    unsigned char *buffer = malloc(1 << 20);
    uint64_t total = 0;
    int files = 0, directory = -1;

    archive_write_set_format_pax_restricted(archive);
    if (!buffer || archive_write_open_filename(archive, path) != ARCHIVE_OK) {
        fprintf(stderr, "write %s: %s\n", path, archive_error_string(archive));
        return -1;
    }
    while (total < target_bytes) {
        /* Sizes spread over 512 B .. 1 MiB, most of them small. */
        size_t bucket = (size_t)512 << (next_random() % 11);
        size_t size = bucket + (size_t)(next_random() % bucket), i;
        char name[64];
        if (files % 50 == 0) {
            directory++;
            snprintf(name, sizeof(name), "dir%03d", directory);
            archive_entry_clear(entry);
            archive_entry_set_pathname(entry, name);
            archive_entry_set_filetype(entry, AE_IFDIR);
            archive_entry_set_perm(entry, 0755);
            archive_write_header(archive, entry);
        }
        for (i = 0; i < size / 2; i += 8) {
            uint64_t value = next_random();
            memcpy(buffer + i, &value, size / 2 - i < 8 ? size / 2 - i : 8);
        }
        for (; i < size; i++)
            buffer[i] = (unsigned char)text[i % (sizeof(text) - 1)];
        snprintf(name, sizeof(name), "dir%03d/file%05d", directory, files);
        archive_entry_clear(entry);
        archive_entry_set_pathname(entry, name);
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_perm(entry, 0644);
        archive_entry_set_size(entry, (la_int64_t)size);
        archive_entry_set_mtime(entry, 1700000000, 0);
        if (archive_write_header(archive, entry) != ARCHIVE_OK ||
            archive_write_data(archive, buffer, size) != (la_ssize_t)size) {
            fprintf(stderr, "write %s: %s\n", path, archive_error_string(archive));
            return -1;
        }
        total += size;
        files++;
    }
    archive_write_close(archive);
    archive_write_free(archive);
    archive_entry_free(entry);
    free(buffer);
    *written = total;
    return files;
}

static off_t file_size(const char *path)
{
    struct stat info;

    return stat(path, &info) == 0 ? info.st_size : -1;
}

/* One unpack into a fresh active snapshot; returns the seconds it took. */
static double time_unpack(struct snapshotter *snapshotter, const char *blob, int run,
                          uint64_t *stream_size)
{
    struct unpack_options options = {false, true};
    struct unpack_result result;
    char key[64], *path = NULL;
    struct berr err;
    double start, elapsed;
    int directory_fd, layer_fd;

    snprintf(key, sizeof(key), "bench-%d", run);
    if (snapshot_prepare(snapshotter, "bench", key, NULL, NULL, 0, NULL, &err) ||
        snapshot_active_directory(snapshotter, "bench", key, &path, &err)) {
        fprintf(stderr, "%s\n", err.message);
        exit(1);
    }
    directory_fd = open(path, O_RDONLY | O_DIRECTORY);
    layer_fd = open(blob, O_RDONLY);
    start = seconds();
    if (unpack_layer(directory_fd, layer_fd, &options, &result, &err) != 0) {
        fprintf(stderr, "unpack %s: %s\n", blob, err.message);
        exit(1);
    }
    elapsed = seconds() - start;
    *stream_size = result.uncompressed_size;
    close(directory_fd);
    close(layer_fd);
    free(path);
    snapshot_remove(snapshotter, "bench", key, NULL);
    return elapsed;
}

static double time_command(const char *command)
{
    double start = seconds();

    if (system(command) != 0) {
        fprintf(stderr, "failed: %s\n", command);
        exit(1);
    }
    return seconds() - start;
}

int main(int argc, char **argv)
{
    int size_mb = argc > 1 ? atoi(argv[1]) : 100, runs = argc > 2 ? atoi(argv[2]) : 3, i, files;
    const char *formats[] = {"none", "gzip", "zstd"};
    char root[] = "/tmp/berth-bench-unpack-XXXXXX", path[256], command[1024];
    struct snapshotter *snapshotter;
    struct metadata *metadata;
    uint64_t written, stream_size = 0;
    struct berr err;
    size_t f;

    if (runs < 1 || runs > 50 || size_mb < 1 || !mkdtemp(root)) {
        fprintf(stderr, "usage: bench_unpack [SIZE_MB] [RUNS]\n");
        return 2;
    }
    snprintf(path, sizeof(path), "%s/layer.tar", root);
    files = make_layer(path, (uint64_t)size_mb << 20, &written);
    if (files < 0)
        return 1;
    snprintf(command, sizeof(command),
             "gzip -n -k '%s/layer.tar' && zstd -q -k '%s/layer.tar' -o '%s/layer.tar.zst'", root,
             root, root);
    if (system(command) != 0)
        return 1;
    /* The blobs' writeback must not land in the first timed syncfs. */
    sync();
    snprintf(path, sizeof(path), "%s/meta.lmdb", root);
    if (metadata_open(path, &metadata, &err) ||
        snapshotter_open(root, metadata, &snapshotter, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    printf("layer: %d files, %.1f MB of file data; tar %.1f MB, gzip %.1f MB, zstd %.1f MB; "
           "median of %d runs\n",
           files, (double)written / 1e6,
           (double)file_size(strcat(strcpy(path, root), "/layer.tar")) / 1e6,
           (double)file_size(strcat(strcpy(path, root), "/layer.tar.gz")) / 1e6,
           (double)file_size(strcat(strcpy(path, root), "/layer.tar.zst")) / 1e6, runs);
    printf("%-6s %22s %22s\n", "", "unpack_layer MB/s", "GNU tar -x MB/s");
    for (f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
        const char *suffix = f == 0 ? "" : f == 1 ? ".gz" : ".zst";
        const char *tar_flags = f == 0 ? "" : f == 1 ? "-z" : "--zstd";
        double ours[50], theirs[50];
        char blob[300];
        snprintf(blob, sizeof(blob), "%s/layer.tar%s", root, suffix);
        for (i = 0; i < runs; i++) {
            ours[i] = time_unpack(snapshotter, blob, i, &stream_size);
            snprintf(command, sizeof(command),
                     "mkdir -p '%s/tar-out' && tar %s -xf '%s' -C '%s/tar-out' && sync -f "
                     "'%s/tar-out'",
                     root, tar_flags, blob, root, root);
            theirs[i] = time_command(command);
            snprintf(command, sizeof(command), "rm -rf '%s/tar-out'", root);
            time_command(command);
        }
        qsort(ours, (size_t)runs, sizeof(double), compare_doubles);
        qsort(theirs, (size_t)runs, sizeof(double), compare_doubles);
        printf("%-6s %16.0f (%.2fs) %16.0f (%.2fs)\n", formats[f],
               (double)stream_size / 1e6 / ours[runs / 2], ours[runs / 2],
               (double)stream_size / 1e6 / theirs[runs / 2], theirs[runs / 2]);
    }
    snapshotter_close(snapshotter);
    metadata_close(metadata);
    dirtree_remove(root, NULL);
    return 0;
}
