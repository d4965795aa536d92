/*
 * metadata: see metadata.h. A thin layer over LMDB: one environment, one
 * named database per table, keys "NAMESPACE/KEY".
 */
#include "metadata.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAP_SIZE (4ULL << 30) /* address space, not disk: LMDB grows the file as needed */
#define KEY_MAX  4096

struct metadata {
    MDB_env *env;
    MDB_dbi tables[METADATA_TABLE_COUNT];
};

struct metadata_txn {
    struct metadata *metadata;
    MDB_txn *txn;
};

static const char *const table_names[METADATA_TABLE_COUNT] = {
    [METADATA_NAMESPACES] = "namespaces",
    [METADATA_CONTENT] = "content",
    [METADATA_IMAGES] = "images",
    [METADATA_CONTAINERS] = "containers",
    [METADATA_SNAPSHOTS] = "snapshots",
    [METADATA_LEASES] = "leases",
    [METADATA_LEASE_RESOURCES] = "lease_resources",
    [METADATA_TASKS] = "tasks",
};

static int lmdb_error(struct berr *err, int rc, const char *what)
{
    enum berr_code code = rc == MDB_NOTFOUND   ? BERR_NOT_FOUND
                          : rc == MDB_MAP_FULL ? BERR_NOSPACE
                          : rc == ENOSPC       ? BERR_NOSPACE
                          : rc == ENOMEM       ? BERR_NOMEM
                          : rc == MDB_KEYEXIST ? BERR_EXISTS
                                               : BERR_IO;
    return berr_set(err, code, "metadata %s: %s", what, mdb_strerror(rc));
}

bool metadata_namespace_valid(const char *name)
{
    size_t length = strlen(name), i;

    if (length == 0 || length > 76)
        return false;
    for (i = 0; i < length; i++) {
        char c = name[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
            return false;
    }
    return true;
}

int metadata_open(const char *path, struct metadata **out, struct berr *err)
{
    struct metadata *metadata = calloc(1, sizeof(*metadata));
    MDB_txn *txn;
    int rc, i;

    if (!metadata)
        return berr_set(err, BERR_NOMEM, "metadata: out of memory");
    if ((rc = mdb_env_create(&metadata->env)) ||
        (rc = mdb_env_set_maxdbs(metadata->env, METADATA_TABLE_COUNT + 2)) ||
        (rc = mdb_env_set_mapsize(metadata->env, MAP_SIZE)) ||
        (rc = mdb_env_set_maxreaders(metadata->env, 512))) {
        lmdb_error(err, rc, "setup");
        goto fail;
    }
    /* NOTLS: transactions are not tied to threads (calls hop between them). */
    rc = mdb_env_open(metadata->env, path, MDB_NOSUBDIR | MDB_NOTLS, 0600);
    if (rc) {
        berr_set(err, rc == ENOENT ? BERR_NOT_FOUND : BERR_IO, "open metadata %s: %s", path,
                 mdb_strerror(rc));
        goto fail;
    }
    if ((rc = mdb_txn_begin(metadata->env, NULL, 0, &txn))) {
        lmdb_error(err, rc, "open tables");
        goto fail;
    }
    for (i = 0; i < METADATA_TABLE_COUNT; i++) {
        if ((rc = mdb_dbi_open(txn, table_names[i], MDB_CREATE, &metadata->tables[i]))) {
            mdb_txn_abort(txn);
            lmdb_error(err, rc, table_names[i]);
            goto fail;
        }
    }
    if ((rc = mdb_txn_commit(txn))) {
        lmdb_error(err, rc, "open tables");
        goto fail;
    }
    /* Readers left behind by a crashed process would pin old pages. */
    mdb_reader_check(metadata->env, NULL);
    *out = metadata;
    return 0;
fail:
    if (metadata->env)
        mdb_env_close(metadata->env);
    free(metadata);
    return err ? err->code : BERR_IO;
}

void metadata_close(struct metadata *metadata)
{
    if (!metadata)
        return;
    mdb_env_close(metadata->env);
    free(metadata);
}

int metadata_begin(struct metadata *metadata, bool writable, struct metadata_txn **out,
                   struct berr *err)
{
    struct metadata_txn *txn = calloc(1, sizeof(*txn));
    int rc;

    if (!txn)
        return berr_set(err, BERR_NOMEM, "metadata: out of memory");
    txn->metadata = metadata;
    rc = mdb_txn_begin(metadata->env, NULL, writable ? 0 : MDB_RDONLY, &txn->txn);
    if (rc) {
        free(txn);
        return lmdb_error(err, rc, "begin");
    }
    *out = txn;
    return 0;
}

int metadata_commit(struct metadata_txn *txn, struct berr *err)
{
    int rc = mdb_txn_commit(txn->txn);

    free(txn);
    return rc ? lmdb_error(err, rc, "commit") : 0;
}

void metadata_abort(struct metadata_txn *txn)
{
    if (!txn)
        return;
    mdb_txn_abort(txn->txn);
    free(txn);
}

static int make_key(char *out, const char *namespace, const char *key, MDB_val *value,
                    struct berr *err)
{
    int length = snprintf(out, KEY_MAX, "%s/%s", namespace ? namespace : "", key);

    if (length < 0 || length >= KEY_MAX || (size_t)length > 511 /* LMDB's default key limit */)
        return berr_set(err, BERR_INVALID, "metadata key too long: %s/%s", namespace, key);
    value->mv_data = out;
    value->mv_size = (size_t)length;
    return 0;
}

int metadata_get(struct metadata_txn *txn, enum metadata_table table, const char *namespace,
                 const char *key, struct metadata_value *out, struct berr *err)
{
    char buffer[KEY_MAX];
    MDB_val lookup, found;
    int rc;

    if ((rc = make_key(buffer, namespace, key, &lookup, err)))
        return rc;
    rc = mdb_get(txn->txn, txn->metadata->tables[table], &lookup, &found);
    if (rc == MDB_NOTFOUND)
        return berr_set(err, BERR_NOT_FOUND, "%s %s not found", table_names[table], key);
    if (rc)
        return lmdb_error(err, rc, "get");
    out->data = found.mv_data;
    out->size = found.mv_size;
    return 0;
}

int metadata_put(struct metadata_txn *txn, enum metadata_table table, const char *namespace,
                 const char *key, const void *data, size_t size, struct berr *err)
{
    char buffer[KEY_MAX];
    MDB_val lookup, value = {size, (void *)data};
    int rc;

    if ((rc = make_key(buffer, namespace, key, &lookup, err)))
        return rc;
    rc = mdb_put(txn->txn, txn->metadata->tables[table], &lookup, &value, 0);
    return rc ? lmdb_error(err, rc, "put") : 0;
}

int metadata_delete(struct metadata_txn *txn, enum metadata_table table, const char *namespace,
                    const char *key, struct berr *err)
{
    char buffer[KEY_MAX];
    MDB_val lookup;
    int rc;

    if ((rc = make_key(buffer, namespace, key, &lookup, err)))
        return rc;
    rc = mdb_del(txn->txn, txn->metadata->tables[table], &lookup, NULL);
    if (rc == MDB_NOTFOUND)
        return berr_set(err, BERR_NOT_FOUND, "%s %s not found", table_names[table], key);
    return rc ? lmdb_error(err, rc, "delete") : 0;
}

static int walk(struct metadata_txn *txn, enum metadata_table table, const char *start,
                size_t strip, metadata_visit visit, void *user, struct berr *err)
{
    char key[KEY_MAX];
    size_t start_length = strlen(start);
    MDB_cursor *cursor;
    MDB_val lookup = {start_length, (void *)start}, value;
    int rc = mdb_cursor_open(txn->txn, txn->metadata->tables[table], &cursor);

    if (rc)
        return lmdb_error(err, rc, "cursor");
    rc = mdb_cursor_get(cursor, &lookup, &value, start_length ? MDB_SET_RANGE : MDB_FIRST);
    while (rc == 0) {
        int visited;
        if (lookup.mv_size < start_length || memcmp(lookup.mv_data, start, start_length) != 0)
            break;
        if (lookup.mv_size >= sizeof(key))
            break;
        memcpy(key, lookup.mv_data, lookup.mv_size);
        key[lookup.mv_size] = '\0';
        visited = visit(key + strip, value.mv_data, value.mv_size, user);
        if (visited) {
            mdb_cursor_close(cursor);
            return visited;
        }
        rc = mdb_cursor_get(cursor, &lookup, &value, MDB_NEXT);
    }
    mdb_cursor_close(cursor);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : lmdb_error(err, rc, "walk");
}

int metadata_list(struct metadata_txn *txn, enum metadata_table table, const char *namespace,
                  const char *prefix, metadata_visit visit, void *user, struct berr *err)
{
    char start[KEY_MAX];
    int length =
        snprintf(start, sizeof(start), "%s/%s", namespace ? namespace : "", prefix ? prefix : "");

    if (length < 0 || length >= (int)sizeof(start))
        return berr_set(err, BERR_INVALID, "metadata prefix too long");
    return walk(txn, table, start, strlen(namespace ? namespace : "") + 1, visit, user, err);
}

int metadata_list_all(struct metadata_txn *txn, enum metadata_table table, metadata_visit visit,
                      void *user, struct berr *err)
{
    return walk(txn, table, "", 0, visit, user, err);
}
