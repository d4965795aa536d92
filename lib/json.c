/*
 * json: typed access to yajl trees and a forgiving yajl_gen wrapper.
 * Why a wrapper: OCI configs and API bodies are hostile input, so every read
 * checks the type and names the field; and JSON output is built in many
 * places, where checking each yajl_gen status would bury the logic.
 */
#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int json_parse(const char *text, yajl_val *out, struct berr *err)
{
    char message[512];
    yajl_val tree;

    message[0] = '\0';
    tree = yajl_tree_parse(text, message, sizeof(message));
    if (!tree) {
        /* yajl's message spans lines (it shows the text around the error); keep the first. */
        char *newline = strchr(message, '\n');
        if (newline)
            *newline = '\0';
        return berr_set(err, BERR_INVALID, "malformed JSON: %s",
                        message[0] ? message : "parse error");
    }
    *out = tree;
    return 0;
}

int json_parse_file(const char *path, size_t max_size, yajl_val *out, struct berr *err)
{
    struct stat info;
    char *text;
    size_t done = 0;
    int rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return berr_errno(err, errno, "open %s", path);
    if (fstat(fd, &info) < 0) {
        rc = berr_errno(err, errno, "stat %s", path);
        close(fd);
        return rc;
    }
    if (!S_ISREG(info.st_mode) || (size_t)info.st_size > max_size) {
        close(fd);
        return berr_set(err, BERR_INVALID, "%s: not a regular file of at most %zu bytes", path,
                        max_size);
    }
    text = malloc((size_t)info.st_size + 1);
    if (!text) {
        close(fd);
        return berr_set(err, BERR_NOMEM, "read %s: out of memory", path);
    }
    while (done < (size_t)info.st_size) {
        ssize_t got = read(fd, text + done, (size_t)info.st_size - done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = berr_errno(err, errno, "read %s", path);
            free(text);
            close(fd);
            return rc;
        }
        if (got == 0)
            break;
        done += (size_t)got;
    }
    close(fd);
    text[done] = '\0';
    if (strlen(text) != done) {
        free(text);
        return berr_set(err, BERR_INVALID, "%s: malformed JSON: contains a NUL byte", path);
    }
    rc = json_parse(text, out, err);
    free(text);
    if (rc)
        berr_prefix(err, "%s", path);
    return rc;
}

yajl_val json_get(yajl_val object, const char *key)
{
    size_t i;

    if (!object || !YAJL_IS_OBJECT(object))
        return NULL;
    for (i = 0; i < object->u.object.len; i++) {
        if (strcmp(object->u.object.keys[i], key) == 0)
            return object->u.object.values[i];
    }
    return NULL;
}

const char *json_type_name(yajl_val value)
{
    if (!value)
        return "nothing";
    switch (value->type) {
    case yajl_t_string:
        return "a string";
    case yajl_t_number:
        return "a number";
    case yajl_t_object:
        return "an object";
    case yajl_t_array:
        return "an array";
    case yajl_t_true:
    case yajl_t_false:
        return "a boolean";
    case yajl_t_null:
        return "null";
    default:
        return "an unknown value";
    }
}

static int wrong_type(const char *key, const char *expected, yajl_val value, struct berr *err)
{
    return berr_set(err, BERR_INVALID, "\"%s\" must be %s, not %s", key, expected,
                    json_type_name(value));
}

static bool is_absent(yajl_val value)
{
    return !value || YAJL_IS_NULL(value);
}

int json_get_string(yajl_val object, const char *key, const char **out, struct berr *err)
{
    yajl_val value = json_get(object, key);

    if (is_absent(value))
        return 0;
    if (!YAJL_IS_STRING(value))
        return wrong_type(key, "a string", value, err);
    *out = value->u.string;
    return 0;
}

int json_get_bool(yajl_val object, const char *key, bool *out, struct berr *err)
{
    yajl_val value = json_get(object, key);

    if (is_absent(value))
        return 0;
    if (YAJL_IS_TRUE(value))
        *out = true;
    else if (YAJL_IS_FALSE(value))
        *out = false;
    else
        return wrong_type(key, "a boolean", value, err);
    return 0;
}

int json_as_int64(yajl_val value, const char *what, int64_t *out, struct berr *err)
{
    if (!YAJL_IS_NUMBER(value) || !(value->u.number.flags & YAJL_NUMBER_INT_VALID))
        return berr_set(err, BERR_INVALID, "\"%s\" must be an integer, not %s", what,
                        YAJL_IS_NUMBER(value) ? value->u.number.r : json_type_name(value));
    *out = value->u.number.i;
    return 0;
}

int json_as_uint64(yajl_val value, const char *what, uint64_t *out, struct berr *err)
{
    char *end;
    unsigned long long parsed;

    if (!YAJL_IS_NUMBER(value))
        return berr_set(err, BERR_INVALID, "\"%s\" must be an unsigned integer, not %s", what,
                        json_type_name(value));
    /* yajl keeps the literal: parse it ourselves so values above INT64_MAX survive. */
    errno = 0;
    parsed = strtoull(value->u.number.r, &end, 10);
    if (errno || *end || value->u.number.r[0] == '-')
        return berr_set(err, BERR_INVALID, "\"%s\" must be an unsigned integer, not %s", what,
                        value->u.number.r);
    *out = parsed;
    return 0;
}

int json_get_int64(yajl_val object, const char *key, int64_t *out, struct berr *err)
{
    yajl_val value = json_get(object, key);

    if (is_absent(value))
        return 0;
    return json_as_int64(value, key, out, err);
}

int json_get_uint64(yajl_val object, const char *key, uint64_t *out, struct berr *err)
{
    yajl_val value = json_get(object, key);

    if (is_absent(value))
        return 0;
    return json_as_uint64(value, key, out, err);
}

int json_get_object(yajl_val object, const char *key, yajl_val *out, struct berr *err)
{
    yajl_val value = json_get(object, key);

    if (is_absent(value))
        return 0;
    if (!YAJL_IS_OBJECT(value))
        return wrong_type(key, "an object", value, err);
    *out = value;
    return 0;
}

int json_get_array(yajl_val object, const char *key, yajl_val *out, struct berr *err)
{
    yajl_val value = json_get(object, key);

    if (is_absent(value))
        return 0;
    if (!YAJL_IS_ARRAY(value))
        return wrong_type(key, "an array", value, err);
    *out = value;
    return 0;
}

void json_free_string_array(char **array)
{
    char **item;

    if (!array)
        return;
    for (item = array; *item; item++)
        free(*item);
    free(array);
}

int json_get_string_array(yajl_val object, const char *key, char ***out, size_t *count,
                          struct berr *err)
{
    yajl_val array = NULL;
    char **copy;
    size_t i, length;
    int rc = json_get_array(object, key, &array, err);

    if (rc || !array)
        return rc;
    length = array->u.array.len;
    copy = calloc(length + 1, sizeof(*copy));
    if (!copy)
        return berr_set(err, BERR_NOMEM, "\"%s\": out of memory", key);
    for (i = 0; i < length; i++) {
        yajl_val item = array->u.array.values[i];
        if (!YAJL_IS_STRING(item)) {
            json_free_string_array(copy);
            return berr_set(err, BERR_INVALID, "\"%s\"[%zu] must be a string, not %s", key, i,
                            json_type_name(item));
        }
        copy[i] = strdup(item->u.string);
        if (!copy[i]) {
            json_free_string_array(copy);
            return berr_set(err, BERR_NOMEM, "\"%s\": out of memory", key);
        }
    }
    json_free_string_array(*out);
    *out = copy;
    if (count)
        *count = length;
    return 0;
}

size_t json_quote(char *out, size_t size, const char *value)
{
    static const char hex[] = "0123456789abcdef";
    size_t used = 0;
    const unsigned char *p;

#define PUT(c)                                                                                     \
    do {                                                                                           \
        if (used + 1 < size)                                                                       \
            out[used] = (char)(c);                                                                 \
        used++;                                                                                    \
    } while (0)

    PUT('"');
    for (p = (const unsigned char *)value; *p; p++) {
        switch (*p) {
        case '"':
            PUT('\\');
            PUT('"');
            break;
        case '\\':
            PUT('\\');
            PUT('\\');
            break;
        case '\n':
            PUT('\\');
            PUT('n');
            break;
        case '\r':
            PUT('\\');
            PUT('r');
            break;
        case '\t':
            PUT('\\');
            PUT('t');
            break;
        default:
            if (*p < 0x20) {
                PUT('\\');
                PUT('u');
                PUT('0');
                PUT('0');
                PUT(hex[*p >> 4]);
                PUT(hex[*p & 15]);
            } else {
                PUT(*p);
            }
        }
    }
    PUT('"');
#undef PUT
    if (size)
        out[used < size ? used : size - 1] = '\0';
    return used;
}

int json_writer_init(struct json_writer *writer, bool pretty, struct berr *err)
{
    writer->failed = false;
    writer->gen = yajl_gen_alloc(NULL);
    if (!writer->gen)
        return berr_set(err, BERR_NOMEM, "JSON writer: out of memory");
    if (pretty) {
        yajl_gen_config(writer->gen, yajl_gen_beautify, 1);
        yajl_gen_config(writer->gen, yajl_gen_indent_string, "  ");
    }
    return 0;
}

void json_writer_free(struct json_writer *writer)
{
    if (writer->gen)
        yajl_gen_free(writer->gen);
    writer->gen = NULL;
}

static void check(struct json_writer *writer, yajl_gen_status status)
{
    if (status != yajl_gen_status_ok)
        writer->failed = true;
}

void json_object_begin(struct json_writer *writer)
{
    check(writer, yajl_gen_map_open(writer->gen));
}

void json_object_end(struct json_writer *writer)
{
    check(writer, yajl_gen_map_close(writer->gen));
}

void json_array_begin(struct json_writer *writer)
{
    check(writer, yajl_gen_array_open(writer->gen));
}

void json_array_end(struct json_writer *writer)
{
    check(writer, yajl_gen_array_close(writer->gen));
}

void json_string_len(struct json_writer *writer, const char *value, size_t length)
{
    check(writer, yajl_gen_string(writer->gen, (const unsigned char *)value, length));
}

void json_key(struct json_writer *writer, const char *key)
{
    json_string_len(writer, key, strlen(key));
}

void json_string(struct json_writer *writer, const char *value)
{
    if (!value)
        json_null(writer);
    else
        json_string_len(writer, value, strlen(value));
}

void json_int(struct json_writer *writer, int64_t value)
{
    char number[32];
    int length = snprintf(number, sizeof(number), "%" PRId64, value);
    check(writer, yajl_gen_number(writer->gen, number, (size_t)length));
}

void json_uint(struct json_writer *writer, uint64_t value)
{
    char number[32];
    int length = snprintf(number, sizeof(number), "%" PRIu64, value);
    check(writer, yajl_gen_number(writer->gen, number, (size_t)length));
}

void json_double(struct json_writer *writer, double value)
{
    check(writer, yajl_gen_double(writer->gen, value));
}

void json_bool(struct json_writer *writer, bool value)
{
    check(writer, yajl_gen_bool(writer->gen, value));
}

void json_null(struct json_writer *writer)
{
    check(writer, yajl_gen_null(writer->gen));
}

void json_value(struct json_writer *writer, yajl_val value)
{
    size_t i;

    if (!value) {
        json_null(writer);
        return;
    }
    switch (value->type) {
    case yajl_t_string:
        json_string(writer, value->u.string);
        break;
    case yajl_t_number:
        check(writer, yajl_gen_number(writer->gen, value->u.number.r, strlen(value->u.number.r)));
        break;
    case yajl_t_object:
        json_object_begin(writer);
        for (i = 0; i < value->u.object.len; i++) {
            json_key(writer, value->u.object.keys[i]);
            json_value(writer, value->u.object.values[i]);
        }
        json_object_end(writer);
        break;
    case yajl_t_array:
        json_array_begin(writer);
        for (i = 0; i < value->u.array.len; i++)
            json_value(writer, value->u.array.values[i]);
        json_array_end(writer);
        break;
    case yajl_t_true:
        json_bool(writer, true);
        break;
    case yajl_t_false:
        json_bool(writer, false);
        break;
    default:
        json_null(writer);
        break;
    }
}

void json_kv_string(struct json_writer *writer, const char *key, const char *value)
{
    json_key(writer, key);
    json_string(writer, value);
}

void json_kv_int(struct json_writer *writer, const char *key, int64_t value)
{
    json_key(writer, key);
    json_int(writer, value);
}

void json_kv_uint(struct json_writer *writer, const char *key, uint64_t value)
{
    json_key(writer, key);
    json_uint(writer, value);
}

void json_kv_bool(struct json_writer *writer, const char *key, bool value)
{
    json_key(writer, key);
    json_bool(writer, value);
}

int json_writer_result(struct json_writer *writer, const char **text, size_t *length,
                       struct berr *err)
{
    const unsigned char *buffer;
    size_t size;

    if (writer->failed)
        return berr_set(err, BERR_INTERNAL, "JSON writer: document is not well formed");
    if (yajl_gen_get_buf(writer->gen, &buffer, &size) != yajl_gen_status_ok)
        return berr_set(err, BERR_INTERNAL, "JSON writer: no document");
    *text = (const char *)buffer;
    if (length)
        *length = size;
    return 0;
}
