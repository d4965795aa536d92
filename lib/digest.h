/*
 * digest: sha256 content digests in the OCI form "sha256:<64 lowercase hex>".
 * OpenSSL's EVP does the hashing (hardware SHA extensions where the CPU has
 * them); this module only adds streaming, files and the string form.
 */
#ifndef BERTH_DIGEST_H
#define BERTH_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berr.h"

#define DIGEST_SHA256_PREFIX  "sha256:"
#define DIGEST_SHA256_HEX_LEN 64
/* "sha256:" + 64 hex + NUL */
#define DIGEST_STRING_SIZE 72

struct digest_sha256 {
    void *context; /* EVP_MD_CTX, kept opaque so callers need no OpenSSL headers */
};

int digest_sha256_init(struct digest_sha256 *digest, struct berr *err);
void digest_sha256_update(struct digest_sha256 *digest, const void *data, size_t size);
/* Writes "sha256:<hex>" and releases the context. */
void digest_sha256_final(struct digest_sha256 *digest, char out[DIGEST_STRING_SIZE]);
/* Releases the context without a result (on error paths). */
void digest_sha256_abort(struct digest_sha256 *digest);

int digest_sha256_buffer(const void *data, size_t size, char out[DIGEST_STRING_SIZE],
                         struct berr *err);
/* Digest of a whole file; size_out (may be NULL) receives its length. */
int digest_sha256_file(const char *path, char out[DIGEST_STRING_SIZE], uint64_t *size_out,
                       struct berr *err);

/* True for exactly "sha256:" followed by 64 lowercase hex digits. */
bool digest_is_valid(const char *digest);

#endif
