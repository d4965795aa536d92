/*
 * supervisor: what every service needs from a call, in one place, so the
 * services agree on it: which namespace a call is in.
 *
 * A namespace exists once anything has been written in it (containerd's
 * rule): the first call that may write records it, so Namespaces.List shows it and
 * Namespaces.Delete can refuse while it holds anything.
 */
#include "supervisor.h"

#include <string.h>

#include "berth/supervisor/v1/namespaces.pb-c.h"

#define DEFAULT_NAMESPACE "default"

static int record_namespace(struct supervisor *supervisor, const char *name, struct berr *err)
{
    Berth__Supervisor__V1__Namespace record = BERTH__SUPERVISOR__V1__NAMESPACE__INIT;
    struct metadata_txn *txn;
    struct metadata_value value;
    uint8_t packed[128];
    size_t size;
    int rc;

    /* The common case, a namespace seen before, costs one read transaction. */
    if ((rc = metadata_begin(supervisor->metadata, false, &txn, err)))
        return rc;
    rc = metadata_get(txn, METADATA_NAMESPACES, "", name, &value, NULL);
    metadata_abort(txn);
    if (rc == 0)
        return 0;
    record.name = (char *)name;
    size = berth__supervisor__v1__namespace__pack(&record, packed);
    if ((rc = metadata_begin(supervisor->metadata, true, &txn, err)))
        return rc;
    rc = metadata_get(txn, METADATA_NAMESPACES, "", name, &value, NULL);
    if (rc == BERR_NOT_FOUND)
        rc = metadata_put(txn, METADATA_NAMESPACES, "", name, packed, size, err);
    if (rc) {
        metadata_abort(txn);
        return rc;
    }
    return metadata_commit(txn, err);
}

/* Methods that only read: a mistyped namespace in a query must not come
 * into existence (it would then block Namespaces.Create of that name). */
static bool reads_only(struct rpc_call *call)
{
    static const char *const readers[] = {"Get",     "List",     "Info",         "Read",
                                          "Status",  "Stat",     "Mounts",       "Usage",
                                          "Config",  "Wait",     "Metrics",      "Subscribe",
                                          "Version", "ListPids", "ListStatuses", "ListResources"};
    const struct rpc_method *method = rpc_call_method(call);
    const char *name = method ? strrchr(method->path, '/') : NULL;

    if (!name)
        return false;
    name++;
    for (size_t i = 0; i < sizeof(readers) / sizeof(readers[0]); i++)
        if (strcmp(name, readers[i]) == 0)
            return true;
    return false;
}

int supervisor_namespace(struct supervisor *supervisor, struct rpc_call *call,
                         const char **namespace, struct berr *err)
{
    const char *name = rpc_call_namespace(call);

    if (!name || !*name)
        name = DEFAULT_NAMESPACE;
    if (!metadata_namespace_valid(name))
        return berr_set(err, BERR_INVALID,
                        "namespace \"%.80s\": must be [a-z0-9] then [a-z0-9._-], at most 76 bytes",
                        name);
    *namespace = name;
    if (reads_only(call))
        return 0;
    return record_namespace(supervisor, name, err);
}
