/*
 * buf: growable strings and string lists, the CLI's only containers.
 *
 * The CLI builds URLs, JSON bodies, table cells and template output of
 * unknown length; a growable buffer keeps that code free of size
 * arithmetic. Running out of memory in a short-lived command line tool has
 * no useful recovery, so these helpers print one message and exit 125 (the
 * docker CLI's "cannot run" status) instead of making every caller check.
 */
#ifndef BERTH_CLI_BUF_H
#define BERTH_CLI_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
    char *data; /* NUL-terminated once anything was appended; may be NULL when empty */
    size_t len;
    size_t cap;
};

#define STRBUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void sb_append(struct strbuf *sb, const char *data, size_t len);
void sb_puts(struct strbuf *sb, const char *text);
void sb_putc(struct strbuf *sb, char c);
void sb_printf(struct strbuf *sb, const char *format, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(struct strbuf *sb, const char *format, va_list args);
/* The text so far; "" (never NULL) when empty. */
const char *sb_str(const struct strbuf *sb);
void sb_reset(struct strbuf *sb);
void sb_free(struct strbuf *sb);
/* Hands the malloc'ed text to the caller (an empty malloc'ed string when empty). */
char *sb_detach(struct strbuf *sb);

struct strlist {
    char **items;
    size_t len;
    size_t cap;
};

#define STRLIST_INIT                                                                               \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void sl_push(struct strlist *list, const char *item); /* copies item */
void sl_free(struct strlist *list);

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *text);
char *xstrndup(const char *text, size_t len);
char *xasprintf(const char *format, ...) __attribute__((format(printf, 1, 2)));

#endif
