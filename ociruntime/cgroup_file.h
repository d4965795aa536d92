/*
 * cgroup_file: reading and writing cgroup control files.
 *
 * Why a module of its own: the kernel treats each write(2) to a control
 * file as one command, so a value goes in with a single write of its text
 * and no newline, and the error worth reporting is the one that write
 * returns (EBUSY for a memory limit below the usage, EINVAL for a value
 * out of range). Both cgroup drivers write, read and report the same way:
 * "memory.limit_in_bytes: write 1048576: Device or resource busy".
 *
 * A control file that does not exist in an existing cgroup directory means
 * the kernel lacks the feature (memory.memsw.* without swap accounting,
 * blkio.leaf_weight since CFQ left): writes report BERR_UNSUPPORTED.
 */
#ifndef BERTH_RUNTIME_CGROUP_FILE_H
#define BERTH_RUNTIME_CGROUP_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berr.h"

/* Writes value to dir/name with one write(2). */
int cgroup_file_write(const char *dir, const char *name, const char *value, struct berr *err);
int cgroup_file_write_u64(const char *dir, const char *name, uint64_t value, struct berr *err);
int cgroup_file_write_i64(const char *dir, const char *name, int64_t value, struct berr *err);

/* For files that take several commands (io.max, devices.allow): open once,
 * then one cgroup_file_write_fd per command. name is for messages. */
int cgroup_file_open(const char *dir, const char *name, int *fd, struct berr *err);
int cgroup_file_write_fd(int fd, const char *name, const char *value, struct berr *err);

bool cgroup_file_exists(const char *dir, const char *name);

/* Reads a small file into buffer, NUL-terminated, trailing whitespace
 * removed. A missing file is BERR_NOT_FOUND; a file too big for the buffer
 * is an error. */
int cgroup_file_read(const char *dir, const char *name, char *buffer, size_t size,
                     struct berr *err);

/* Reads a whole file into a malloc'ed NUL-terminated string (for the
 * statistics files, whose size grows with CPUs and devices). */
int cgroup_file_read_all(const char *dir, const char *name, char **text, struct berr *err);

/* Reads a number file. "max" reads as UINT64_MAX and a negative number as
 * 0, as the limits print them. */
int cgroup_file_read_u64(const char *dir, const char *name, uint64_t *out, struct berr *err);

/* Parses a decimal number the same way ("max", negatives); -1 if text is
 * not one. */
int cgroup_file_parse_u64(const char *text, uint64_t *out);

#endif
