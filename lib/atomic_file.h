/*
 * atomic_file: replace a file so that a crash at any instant leaves either
 * the old content or the new, never a mix, an empty file or a torn write.
 *
 * The new content is written to an unnamed file in the same directory
 * (O_TMPFILE, so a crash before the rename leaves no litter), fsynced, given
 * a name, renamed over the target, and the directory is fsynced so that the
 * rename itself survives a power cut.
 */
#ifndef BERTH_ATOMIC_FILE_H
#define BERTH_ATOMIC_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "berr.h"

int atomic_write_file(const char *path, const void *data, size_t size, mode_t mode,
                      struct berr *err);

/* Same, for a name inside an open directory. */
int atomic_write_file_at(int directory_fd, const char *name, const void *data, size_t size,
                         mode_t mode, struct berr *err);

/* Atomic, but without the two fsyncs: for state that lives on a tmpfs or
 * does not outlive a reboot anyway (a runtime's state under /run). A crash
 * still leaves the old or the new content; a power cut may leave the old. */
int atomic_write_file_at_no_sync(int directory_fd, const char *name, const void *data, size_t size,
                                 mode_t mode, struct berr *err);

/* write(2) until done, retrying on EINTR and short writes. Returns 0 or -1 with errno. */
int write_all(int fd, const void *data, size_t size);

#endif
