/*
 * json: the few things every berth program does with JSON, over yajl.
 *
 * Reading: parse a whole document into a yajl tree, then pull typed fields
 * out of it. A field that is absent leaves the output untouched (so callers
 * set defaults first); a field of the wrong type is an error that names the
 * field, because a config.json or an API body is user input.
 * Writing: a thin wrapper over yajl_gen whose calls cannot fail in a way the
 * caller must check one by one; the writer records the first failure and
 * json_writer_finish reports it.
 */
#ifndef BERTH_JSON_H
#define BERTH_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "berr.h"

/* Parses text (NUL-terminated). On failure the message says where. */
int json_parse(const char *text, yajl_val *out, struct berr *err);

/* Reads and parses a file no larger than max_size bytes. */
int json_parse_file(const char *path, size_t max_size, yajl_val *out, struct berr *err);

/* The member of an object, or NULL when absent or when object is not an object. */
yajl_val json_get(yajl_val object, const char *key);

/* "string", "object", ... for messages. */
const char *json_type_name(yajl_val value);

/* Typed getters. Absent or null: return 0 and leave *out alone. */
int json_get_string(yajl_val object, const char *key, const char **out, struct berr *err);
int json_get_bool(yajl_val object, const char *key, bool *out, struct berr *err);
int json_get_int64(yajl_val object, const char *key, int64_t *out, struct berr *err);
int json_get_uint64(yajl_val object, const char *key, uint64_t *out, struct berr *err);
int json_get_object(yajl_val object, const char *key, yajl_val *out, struct berr *err);
int json_get_array(yajl_val object, const char *key, yajl_val *out, struct berr *err);

/* Value conversions, for array elements. */
int json_as_int64(yajl_val value, const char *what, int64_t *out, struct berr *err);
int json_as_uint64(yajl_val value, const char *what, uint64_t *out, struct berr *err);

/* An array of strings as a malloc'ed NULL-terminated vector of malloc'ed copies.
 * Absent: *out stays as it was. Free with json_free_string_array. */
int json_get_string_array(yajl_val object, const char *key, char ***out, size_t *count,
                          struct berr *err);
void json_free_string_array(char **array);

/* Writes value as a JSON string literal (quotes included) into out.
 * Returns the length it needed, like snprintf. */
size_t json_quote(char *out, size_t size, const char *value);

struct json_writer {
    yajl_gen gen;
    bool failed;
};

int json_writer_init(struct json_writer *writer, bool pretty, struct berr *err);
void json_writer_free(struct json_writer *writer);
void json_object_begin(struct json_writer *writer);
void json_object_end(struct json_writer *writer);
void json_array_begin(struct json_writer *writer);
void json_array_end(struct json_writer *writer);
void json_key(struct json_writer *writer, const char *key);
void json_string(struct json_writer *writer, const char *value); /* NULL writes null */
void json_string_len(struct json_writer *writer, const char *value, size_t length);
void json_int(struct json_writer *writer, int64_t value);
void json_uint(struct json_writer *writer, uint64_t value);
void json_double(struct json_writer *writer, double value);
void json_bool(struct json_writer *writer, bool value);
void json_null(struct json_writer *writer);
/* Copies a parsed tree into the output, to pass through fields we do not interpret. */
void json_value(struct json_writer *writer, yajl_val value);

/* Shortcuts for "key": value. */
void json_kv_string(struct json_writer *writer, const char *key, const char *value);
void json_kv_int(struct json_writer *writer, const char *key, int64_t value);
void json_kv_uint(struct json_writer *writer, const char *key, uint64_t value);
void json_kv_bool(struct json_writer *writer, const char *key, bool value);

/* The document so far; valid until the writer is freed. */
int json_writer_result(struct json_writer *writer, const char **text, size_t *length,
                       struct berr *err);

#endif
