/*
 * content_store: blobs addressed by sha256, verified as they are written.
 *
 * Why it looks like this:
 *  - A blob is stored once on disk, ROOT/content/blobs/sha256/<hex>, but it
 *    exists for a namespace only when that namespace has a record in
 *    METADATA_CONTENT ("NS/sha256:<hex>" → ContentInfo: size, created,
 *    updated, labels). Namespaces are isolated: to see a blob, a namespace
 *    must itself write (and so prove it has) the bytes; a blob another
 *    namespace holds is not readable by digest alone. When the data is
 *    already on disk, a commit keeps the existing file and only adds the
 *    record.
 *  - Writes are resumable: a write goes to ROOT/content/ingest/<h>/ where
 *    <h> is sha256("NS/REF"); the directory holds data, ref ("NS/REF"),
 *    started, total and expected. Only one writer at a time may hold a ref
 *    (a second open gets BERR_CONFLICT). The running sha256 lives only in
 *    the writer's memory; reopening an interrupted ref re-hashes the data
 *    already there. Data goes at the current end only.
 *  - Commit verifies size and digest by hashing, fsyncs, and renames the
 *    data into blobs/ in one step, so blobs/ only ever holds complete,
 *    verified files. A mismatch is BERR_INVALID and the ingest stays for a
 *    retry or an abort.
 *  - Deleting a namespace's record removes the file when no namespace has a
 *    record left. The garbage collector (gc.h) removes unreferenced records,
 *    and files that no record names (left by a crash between a rename and
 *    its record).
 *  - Thread-safe: each call is its own LMDB transaction; renames into and
 *    unlinks from blobs/ happen under one mutex together with the record
 *    change, so a file never goes while a record is being added for it.
 *    A content_writer or content_reader is used by one thread at a time.
 *
 * ContentInfo results are heap messages: free them with
 * berth__supervisor__v1__content_info__free_unpacked(info, NULL).
 */
#ifndef BERTH_SUPERVISOR_CONTENT_STORE_H
#define BERTH_SUPERVISOR_CONTENT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "berr.h"
#include "berth/supervisor/v1/content.pb-c.h"
#include "digest.h"
#include "labels.h"
#include "metadata.h"

#define CONTENT_REF_MAX 256

struct content_store;
struct content_writer;
struct content_reader;

/* directory is ROOT/content (created with blobs/sha256 and ingest inside). */
int content_store_open(const char *directory, struct metadata *metadata, struct content_store **out,
                       struct berr *err);
void content_store_close(struct content_store *store);

/* BERR_NOT_FOUND when the namespace has no record of digest. */
int content_store_info(struct content_store *store, const char *namespace, const char *digest,
                       Berth__Supervisor__V1__ContentInfo **out, struct berr *err);

/* Visits the namespace's content matching filters ("digest==sha256:...",
 * "labels.KEY==VALUE", see filter.h). info is valid during the call; a
 * non-zero return stops the walk and is returned. */
typedef int (*content_store_visit)(const Berth__Supervisor__V1__ContentInfo *info, void *user);
int content_store_list(struct content_store *store, const char *namespace,
                       const char *const *filters, size_t filter_count, content_store_visit visit,
                       void *user, struct berr *err);

/* Updates labels of info->digest. mask: "labels" (replace all) or
 * "labels.KEY" (set KEY from info, or remove it when info lacks it); an
 * empty mask replaces all labels. *out (may be NULL): the new record. */
int content_store_update(struct content_store *store, const char *namespace,
                         const Berth__Supervisor__V1__ContentInfo *info, const char *const *mask,
                         size_t mask_count, Berth__Supervisor__V1__ContentInfo **out,
                         struct berr *err);

/* Removes the namespace's record; the file goes too when no other namespace
 * has one. BERR_NOT_FOUND when absent. */
int content_store_delete(struct content_store *store, const char *namespace, const char *digest,
                         struct berr *err);

/* Reading, for Read's stream: open once, then read at offsets. */
int content_reader_open(struct content_store *store, const char *namespace, const char *digest,
                        struct content_reader **out, struct berr *err);
int64_t content_reader_size(const struct content_reader *reader);
/* Reads up to size bytes at offset; *read_out 0 at the end. */
int content_reader_read_at(struct content_reader *reader, int64_t offset, void *buffer, size_t size,
                           size_t *read_out, struct berr *err);
void content_reader_close(struct content_reader *reader);

/* The blob as a read-only file descriptor of the caller's (for the layer
 * unpacker, which reads through libarchive). Same checks as content_reader_open. */
int content_store_open_fd(struct content_store *store, const char *namespace, const char *digest,
                          int *fd_out, struct berr *err);

/* A whole blob (at most max_size bytes, else BERR_INVALID) into a malloc'ed
 * buffer with a NUL after the data: manifests, indexes, configs. */
int content_store_read_all(struct content_store *store, const char *namespace, const char *digest,
                           size_t max_size, char **data, size_t *size, struct berr *err);

/* Same without the namespace check: for the garbage collector, which walks
 * every namespace's references. */
int content_store_read_any(struct content_store *store, const char *digest, size_t max_size,
                           char **data, size_t *size, struct berr *err);

/* What a commit records besides the blob. */
struct content_commit_options {
    const struct label *labels; /* the new record's labels */
    size_t label_count;
    /* A lease (leases.h) to hold the blob, added in the commit's transaction
     * so the collector never sees the blob unprotected. NULL: none. */
    const char *lease;
};

/* An ingest's state, as Status and a writer report it. */
struct content_status {
    const char *ref;                   /* valid as long as the writer, or during a visit */
    int64_t offset;                    /* bytes written */
    int64_t total;                     /* expected size, 0 unknown */
    char expected[DIGEST_STRING_SIZE]; /* "" unknown */
    struct timespec started;
    struct timespec updated;
};

/* Opens ref for writing, creating its ingest or resuming it (re-hashing the
 * data already there). total (0: unknown) and expected (NULL or "": unknown)
 * replace what an earlier open recorded when given. BERR_CONFLICT when
 * another writer holds ref. */
int content_writer_open(struct content_store *store, const char *namespace, const char *ref,
                        int64_t total, const char *expected, struct content_writer **out,
                        struct berr *err);

/* Appends data at offset, which must be the current end (BERR_INVALID
 * otherwise, or past total). A failed write (BERR_NOSPACE for a full disk)
 * is undone: the ingest keeps the data written before it. */
int content_writer_write(struct content_writer *writer, int64_t offset, const void *data,
                         size_t size, struct berr *err);

void content_writer_status(const struct content_writer *writer, struct content_status *out);

/* Verifies and commits. size <= 0 and expected NULL/"" fall back to what
 * open recorded; with no expected digest the computed one is used. A size
 * or digest mismatch is BERR_INVALID and keeps the ingest (write more,
 * commit again, or abort). BERR_EXISTS when the namespace already had the
 * blob: the ingest is dropped, the record's labels are left alone, and the
 * lease (if any) now holds it. digest_out (may be NULL) receives the digest
 * on success and on BERR_EXISTS. After success or BERR_EXISTS the writer can
 * only be closed. */
int content_writer_commit(struct content_writer *writer, int64_t size, const char *expected,
                          const struct content_commit_options *options,
                          char digest_out[DIGEST_STRING_SIZE], struct berr *err);

/* Releases the ref; an uncommitted ingest stays on disk for resuming. */
void content_writer_close(struct content_writer *writer);

/* Removes the ingest and closes the writer. */
void content_writer_abort(struct content_writer *writer);

/* An ingest by ref, from disk (whether or not a writer holds it). */
int content_store_status(struct content_store *store, const char *namespace, const char *ref,
                         struct content_status *out, struct berr *err);

/* Visits the namespace's ingests matching filters ("ref==X", "expected==D"). */
typedef int (*content_status_visit)(const struct content_status *status, void *user);
int content_store_list_statuses(struct content_store *store, const char *namespace,
                                const char *const *filters, size_t filter_count,
                                content_status_visit visit, void *user, struct berr *err);

/* Removes an ingest. BERR_NOT_FOUND when absent, BERR_CONFLICT while a
 * writer holds it. */
int content_store_abort(struct content_store *store, const char *namespace, const char *ref,
                        struct berr *err);

/* One-call commits (import, synthesised manifests): like open + write +
 * commit under a private ref, and on any failure (BERR_NOSPACE included)
 * nothing is left behind. BERR_EXISTS as for content_writer_commit; when
 * expected is given and the namespace already has it, the data is not even
 * read. size < 0: unknown. */
int content_store_commit_buffer(struct content_store *store, const char *namespace,
                                const void *data, size_t size, const char *expected,
                                const struct content_commit_options *options,
                                char digest_out[DIGEST_STRING_SIZE], struct berr *err);

/* read fills up to size bytes of buffer and returns how many (0 at the end)
 * or -1 with err set. */
typedef ssize_t (*content_read_fn)(void *user, void *buffer, size_t size, struct berr *err);
int content_store_commit_stream(struct content_store *store, const char *namespace,
                                content_read_fn read, void *user, int64_t size,
                                const char *expected, const struct content_commit_options *options,
                                char digest_out[DIGEST_STRING_SIZE], struct berr *err);
/* Reads fd to its end. */
int content_store_commit_fd(struct content_store *store, const char *namespace, int fd,
                            int64_t size, const char *expected,
                            const struct content_commit_options *options,
                            char digest_out[DIGEST_STRING_SIZE], struct berr *err);

/* For the garbage collector (gc.c), which changes records and files as one
 * step: hold the blobs lock across the transaction that deletes records and
 * the file removal that follows it. */
void content_store_lock_blobs(struct content_store *store);
void content_store_unlock_blobs(struct content_store *store);
/* Removes every file in blobs/ for which keep returns false (under the
 * blobs lock). Counts what went. */
typedef bool (*content_keep_fn)(const char *digest, void *user);
int content_store_sweep_files(struct content_store *store, content_keep_fn keep, void *user,
                              int64_t *removed, int64_t *freed_bytes, struct berr *err);

#endif
