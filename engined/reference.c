/*
 * reference: see reference.h. The grammar is distribution/reference's:
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [domain "/"] component ("/" component)*
 *   domain    := a first component with a "." or ":", or "localhost"
 *   component := [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)*
 *   tag       := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest    := algorithm ":" hex (sha256: 64 hex digits)
 *
 * Written as small hand checks rather than regular expressions: the
 * grammar is tiny, and the error messages can say what is wrong.
 */
#include "reference.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LENGTH 255

static bool lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* A path component between [start, end). */
static bool component_valid(const char *start, const char *end)
{
    const char *cursor = start;

    if (cursor == end || !lower_alnum(*cursor))
        return false;
    while (cursor < end) {
        if (lower_alnum(*cursor)) {
            cursor++;
            continue;
        }
        /* A separator: ".", "_", "__" or dashes, then more alphanumerics. */
        if (*cursor == '.')
            cursor++;
        else if (*cursor == '_')
            cursor += cursor + 1 < end && cursor[1] == '_' ? 2 : 1;
        else if (*cursor == '-')
            while (cursor < end && *cursor == '-')
                cursor++;
        else
            return false;
        if (cursor == end || !lower_alnum(*cursor))
            return false;
    }
    return true;
}

static bool domain_valid(const char *domain)
{
    const char *colon = strrchr(domain, ':');
    size_t host_length = colon ? (size_t)(colon - domain) : strlen(domain);

    if (!host_length)
        return false;
    for (size_t i = 0; i < host_length; i++)
        if (!isalnum((unsigned char)domain[i]) && domain[i] != '.' && domain[i] != '-')
            return false;
    if (colon) {
        if (!colon[1])
            return false;
        for (const char *port = colon + 1; *port; port++)
            if (!isdigit((unsigned char)*port))
                return false;
    }
    return true;
}

static bool tag_valid(const char *tag)
{
    size_t length = strlen(tag);

    if (!length || length > 128)
        return false;
    if (!isalnum((unsigned char)tag[0]) && tag[0] != '_')
        return false;
    for (size_t i = 1; i < length; i++)
        if (!isalnum((unsigned char)tag[i]) && !strchr("_.-", tag[i]))
            return false;
    return true;
}

static bool hex_string(const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++)
        if (!isxdigit((unsigned char)text[i]) || isupper((unsigned char)text[i]))
            return false;
    return true;
}

static bool digest_valid(const char *digest)
{
    if (strncmp(digest, "sha256:", 7) == 0)
        return strlen(digest + 7) == 64 && hex_string(digest + 7, 64);
    /* Other algorithms: "alg:hex" with at least 32 hex digits. */
    const char *colon = strchr(digest, ':');
    return colon && colon > digest && strlen(colon + 1) >= 32 &&
           hex_string(colon + 1, strlen(colon + 1));
}

bool reference_is_full_id(const char *text)
{
    if (strncmp(text, "sha256:", 7) == 0)
        text += 7;
    return strlen(text) == 64 && hex_string(text, 64);
}

bool reference_is_id_prefix(const char *text)
{
    size_t length;

    if (strncmp(text, "sha256:", 7) == 0)
        text += 7;
    length = strlen(text);
    return length >= 1 && length <= 64 && hex_string(text, length);
}

void reference_free(struct image_reference *reference)
{
    free(reference->domain);
    free(reference->path);
    free(reference->tag);
    free(reference->digest);
    memset(reference, 0, sizeof(*reference));
}

static int invalid(struct berr *err, const char *text, const char *why)
{
    return berr_set(err, BERR_INVALID, "invalid reference format%s%s: \"%.200s\"", why ? ": " : "",
                    why ? why : "", text);
}

int reference_parse(const char *text, struct image_reference *out, struct berr *err)
{
    char *copy = strdup(text), *name, *at, *colon, *slash, *first_end;
    bool has_tag = false;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (!copy)
        return berr_set(err, BERR_NOMEM, "out of memory");
    name = copy;
    if (!*name || strlen(name) > NAME_MAX_LENGTH + 200) {
        rc = invalid(err, text, NULL);
        goto out;
    }
    at = strchr(name, '@');
    if (at) {
        *at = '\0';
        if (!digest_valid(at + 1)) {
            rc = invalid(err, text, "bad digest");
            goto out;
        }
        out->digest = strdup(at + 1);
    }
    /* A tag is after the last colon, unless that colon is in the domain
     * (then a slash follows it). */
    colon = strrchr(name, ':');
    if (colon && !strchr(colon, '/')) {
        *colon = '\0';
        if (!tag_valid(colon + 1)) {
            rc = invalid(err, text, "bad tag");
            goto out;
        }
        out->tag = strdup(colon + 1);
        has_tag = true;
    }
    for (const char *c = name; *c; c++) {
        if (isupper((unsigned char)*c)) {
            rc = invalid(err, text, "repository name must be lowercase");
            goto out;
        }
    }
    slash = strchr(name, '/');
    first_end = slash ? slash : name + strlen(name);
    if (slash && (memchr(name, '.', (size_t)(first_end - name)) ||
                  memchr(name, ':', (size_t)(first_end - name)) ||
                  ((size_t)(first_end - name) == 9 && strncmp(name, "localhost", 9) == 0))) {
        *slash = '\0';
        if (!domain_valid(name)) {
            rc = invalid(err, text, "bad registry host");
            goto out;
        }
        out->domain = strdup(name);
        name = slash + 1;
    } else {
        out->domain = strdup(REFERENCE_DEFAULT_DOMAIN);
    }
    /* Every path component. */
    for (char *component = name;;) {
        char *end = strchr(component, '/');
        if (!component_valid(component, end ? end : component + strlen(component))) {
            rc = invalid(err, text, NULL);
            goto out;
        }
        if (!end)
            break;
        component = end + 1;
    }
    if (strcmp(out->domain, REFERENCE_DEFAULT_DOMAIN) == 0 && !strchr(name, '/')) {
        if (asprintf(&out->path, "library/%s", name) < 0)
            out->path = NULL;
    } else {
        out->path = strdup(name);
    }
    if (!out->domain || !out->path || (at && !out->digest) || (has_tag && !out->tag))
        rc = berr_set(err, BERR_NOMEM, "out of memory");
    if (!rc && strlen(out->domain) + 1 + strlen(out->path) > NAME_MAX_LENGTH)
        rc = invalid(err, text, "repository name must not be more than 255 characters");
out:
    free(copy);
    if (rc)
        reference_free(out);
    return rc;
}

int reference_default_tag(struct image_reference *reference, struct berr *err)
{
    if (reference->tag || reference->digest)
        return 0;
    reference->tag = strdup(REFERENCE_DEFAULT_TAG);
    return reference->tag ? 0 : berr_set(err, BERR_NOMEM, "out of memory");
}

static char *format_reference(const char *name, const struct image_reference *reference)
{
    char *text;

    if (asprintf(&text, "%s%s%s%s%s", name, reference->tag ? ":" : "",
                 reference->tag ? reference->tag : "", reference->digest ? "@" : "",
                 reference->digest ? reference->digest : "") < 0)
        return NULL;
    return text;
}

char *reference_name(const struct image_reference *reference)
{
    char *text;

    if (asprintf(&text, "%s/%s", reference->domain, reference->path) < 0)
        return NULL;
    return text;
}

char *reference_string(const struct image_reference *reference)
{
    char *name = reference_name(reference), *text;

    if (!name)
        return NULL;
    text = format_reference(name, reference);
    free(name);
    return text;
}

char *reference_familiar(const struct image_reference *reference)
{
    const char *path = reference->path;
    char *name, *text;

    if (strcmp(reference->domain, REFERENCE_DEFAULT_DOMAIN) != 0) {
        name = reference_name(reference);
    } else {
        if (strncmp(path, "library/", 8) == 0 && !strchr(path + 8, '/'))
            path += 8;
        name = strdup(path);
    }
    if (!name)
        return NULL;
    text = format_reference(name, reference);
    free(name);
    return text;
}

char *reference_familiar_of(const char *text)
{
    struct image_reference reference;
    char *familiar;

    if (reference_parse(text, &reference, NULL) != 0)
        return strdup(text);
    familiar = reference_familiar(&reference);
    reference_free(&reference);
    return familiar;
}
