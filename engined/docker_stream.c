/*
 * docker_stream: see docker_stream.h.
 */
#include "docker_stream.h"

#include <string.h>

const char *docker_stream_content_type(bool multiplexed, int api_version)
{
    return multiplexed && api_version >= 142 ? DOCKER_MUX_STREAM : DOCKER_RAW_STREAM;
}

void docker_stream_header(unsigned char header[DOCKER_STREAM_HEADER], int stream, uint32_t length)
{
    header[0] = (unsigned char)stream;
    header[1] = header[2] = header[3] = 0;
    header[4] = (unsigned char)(length >> 24);
    header[5] = (unsigned char)(length >> 16);
    header[6] = (unsigned char)(length >> 8);
    header[7] = (unsigned char)length;
}

/* "ctrl-@" is 0, "ctrl-a" 1 ... "ctrl-z" 26, then "ctrl-[" "ctrl-\" "ctrl-]"
 * "ctrl-^" "ctrl-_" (27 to 31), as moby's term.ToBytes. */
static int control_key(const char *name, size_t length)
{
    static const char symbols[] = "[\\]^_";
    char key;

    if (length != 6 || strncmp(name, "ctrl-", 5) != 0)
        return -1;
    key = name[5];
    if (key == '@')
        return 0;
    if (key >= 'a' && key <= 'z')
        return key - 'a' + 1;
    for (size_t i = 0; symbols[i]; i++)
        if (key == symbols[i])
            return 27 + (int)i;
    return -1;
}

int detach_keys_parse(const char *text, struct detach_keys *out, struct berr *err)
{
    const char *cursor;

    memset(out, 0, sizeof(*out));
    if (!text || !*text)
        text = DETACH_KEYS_DEFAULT;
    cursor = text;
    for (;;) {
        size_t length = strcspn(cursor, ",");
        int code = length == 1 ? (unsigned char)cursor[0] : control_key(cursor, length);
        if (code < 0 || out->length == DETACH_KEYS_MAX)
            return berr_set(err, BERR_INVALID, "Invalid detach keys (%s) provided", text);
        out->keys[out->length++] = (unsigned char)code;
        if (!cursor[length])
            break;
        cursor += length + 1;
    }
    return 0;
}

bool detach_keys_scan(struct detach_keys *keys, const unsigned char *data, size_t length,
                      unsigned char *out, size_t *out_length)
{
    size_t n = 0;

    *out_length = 0;
    if (!keys->length) {
        memcpy(out, data, length);
        *out_length = length;
        return false;
    }
    for (size_t i = 0; i < length; i++) {
        if (data[i] == keys->keys[keys->matched]) {
            if (++keys->matched == keys->length) {
                keys->matched = 0;
                *out_length = n;
                return true;
            }
            continue;
        }
        /* Not the sequence after all: what was held back goes on. */
        memcpy(out + n, keys->keys, keys->matched);
        n += keys->matched;
        keys->matched = 0;
        if (data[i] == keys->keys[0]) {
            keys->matched = 1;
            if (keys->length == 1) {
                keys->matched = 0;
                *out_length = n;
                return true;
            }
            continue;
        }
        out[n++] = data[i];
    }
    *out_length = n;
    return false;
}
