/*
 * buf: growable strings and string lists. Allocation failures end the
 * process (see buf.h for why that is the right call in the CLI).
 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void out_of_memory(void)
{
    static const char message[] = "berth: out of memory\n";

    (void)!write(STDERR_FILENO, message, sizeof(message) - 1);
    _exit(125);
}

void *xmalloc(size_t size)
{
    void *ptr = malloc(size ? size : 1);

    if (!ptr)
        out_of_memory();
    return ptr;
}

void *xcalloc(size_t count, size_t size)
{
    void *ptr = calloc(count ? count : 1, size ? size : 1);

    if (!ptr)
        out_of_memory();
    return ptr;
}

void *xrealloc(void *ptr, size_t size)
{
    void *grown = realloc(ptr, size ? size : 1);

    if (!grown)
        out_of_memory();
    return grown;
}

char *xstrdup(const char *text)
{
    return xstrndup(text, strlen(text));
}

char *xstrndup(const char *text, size_t len)
{
    char *copy = xmalloc(len + 1);

    memcpy(copy, text, len);
    copy[len] = '\0';
    return copy;
}

char *xasprintf(const char *format, ...)
{
    struct strbuf sb = STRBUF_INIT;
    va_list args;

    va_start(args, format);
    sb_vprintf(&sb, format, args);
    va_end(args);
    return sb_detach(&sb);
}

static void sb_grow(struct strbuf *sb, size_t extra)
{
    size_t need = sb->len + extra + 1;

    if (need <= sb->cap)
        return;
    if (need < 64)
        need = 64;
    if (need < sb->cap * 2)
        need = sb->cap * 2;
    sb->data = xrealloc(sb->data, need);
    sb->cap = need;
}

void sb_append(struct strbuf *sb, const char *data, size_t len)
{
    sb_grow(sb, len);
    if (len)
        memcpy(sb->data + sb->len, data, len);
    sb->len += len;
    sb->data[sb->len] = '\0';
}

void sb_puts(struct strbuf *sb, const char *text)
{
    sb_append(sb, text, strlen(text));
}

void sb_putc(struct strbuf *sb, char c)
{
    sb_append(sb, &c, 1);
}

void sb_vprintf(struct strbuf *sb, const char *format, va_list args)
{
    va_list copy;
    int need;

    va_copy(copy, args);
    need = vsnprintf(NULL, 0, format, copy);
    va_end(copy);
    if (need <= 0)
        return;
    sb_grow(sb, (size_t)need);
    vsnprintf(sb->data + sb->len, (size_t)need + 1, format, args);
    sb->len += (size_t)need;
}

void sb_printf(struct strbuf *sb, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    sb_vprintf(sb, format, args);
    va_end(args);
}

const char *sb_str(const struct strbuf *sb)
{
    return sb->data ? sb->data : "";
}

void sb_reset(struct strbuf *sb)
{
    sb->len = 0;
    if (sb->data)
        sb->data[0] = '\0';
}

void sb_free(struct strbuf *sb)
{
    free(sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
}

char *sb_detach(struct strbuf *sb)
{
    char *text = sb->data ? sb->data : xstrdup("");

    sb->data = NULL;
    sb->len = sb->cap = 0;
    return text;
}

void sl_push(struct strlist *list, const char *item)
{
    if (list->len + 1 >= list->cap) {
        list->cap = list->cap ? list->cap * 2 : 8;
        list->items = xrealloc(list->items, list->cap * sizeof(*list->items));
    }
    list->items[list->len++] = xstrdup(item);
    list->items[list->len] = NULL;
}

void sl_free(struct strlist *list)
{
    for (size_t i = 0; i < list->len; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->len = list->cap = 0;
}
