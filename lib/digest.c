/*
 * digest: sha256 over OpenSSL EVP. See digest.h.
 */
#include "digest.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

int digest_sha256_init(struct digest_sha256 *digest, struct berr *err)
{
    EVP_MD_CTX *context = EVP_MD_CTX_new();

    if (!context)
        return berr_set(err, BERR_NOMEM, "sha256: out of memory");
    if (EVP_DigestInit_ex(context, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(context);
        return berr_set(err, BERR_INTERNAL, "sha256: OpenSSL refused to initialise");
    }
    digest->context = context;
    return 0;
}

void digest_sha256_update(struct digest_sha256 *digest, const void *data, size_t size)
{
    EVP_DigestUpdate(digest->context, data, size);
}

void digest_sha256_final(struct digest_sha256 *digest, char out[DIGEST_STRING_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[32];
    unsigned int length = 0;
    char *cursor;
    unsigned int i;

    EVP_DigestFinal_ex(digest->context, raw, &length);
    EVP_MD_CTX_free(digest->context);
    digest->context = NULL;
    memcpy(out, DIGEST_SHA256_PREFIX, sizeof(DIGEST_SHA256_PREFIX) - 1);
    cursor = out + sizeof(DIGEST_SHA256_PREFIX) - 1;
    for (i = 0; i < length; i++) {
        *cursor++ = hex[raw[i] >> 4];
        *cursor++ = hex[raw[i] & 15];
    }
    *cursor = '\0';
}

void digest_sha256_abort(struct digest_sha256 *digest)
{
    EVP_MD_CTX_free(digest->context);
    digest->context = NULL;
}

int digest_sha256_buffer(const void *data, size_t size, char out[DIGEST_STRING_SIZE],
                         struct berr *err)
{
    struct digest_sha256 digest;
    int rc = digest_sha256_init(&digest, err);

    if (rc)
        return rc;
    digest_sha256_update(&digest, data, size);
    digest_sha256_final(&digest, out);
    return 0;
}

int digest_sha256_file(const char *path, char out[DIGEST_STRING_SIZE], uint64_t *size_out,
                       struct berr *err)
{
    struct digest_sha256 digest;
    char buffer[65536];
    uint64_t total = 0;
    int fd, rc;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return berr_errno(err, errno, "open %s", path);
    rc = digest_sha256_init(&digest, err);
    if (rc) {
        close(fd);
        return rc;
    }
    for (;;) {
        ssize_t got = read(fd, buffer, sizeof(buffer));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = berr_errno(err, errno, "read %s", path);
            digest_sha256_abort(&digest);
            close(fd);
            return rc;
        }
        if (got == 0)
            break;
        digest_sha256_update(&digest, buffer, (size_t)got);
        total += (uint64_t)got;
    }
    close(fd);
    digest_sha256_final(&digest, out);
    if (size_out)
        *size_out = total;
    return 0;
}

bool digest_is_valid(const char *digest)
{
    size_t i;

    if (!digest || strncmp(digest, DIGEST_SHA256_PREFIX, sizeof(DIGEST_SHA256_PREFIX) - 1) != 0)
        return false;
    digest += sizeof(DIGEST_SHA256_PREFIX) - 1;
    for (i = 0; i < DIGEST_SHA256_HEX_LEN; i++) {
        char c = digest[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return digest[DIGEST_SHA256_HEX_LEN] == '\0';
}
