/*
 * service_version: the Version service, so clients can tell which daemon
 * they talk to before relying on anything else.
 */
#include "berth/supervisor/v1/version.pb-c.h"
#include "berth/supervisor/v1/version.pb-rpc.h"
#include "berth_version.h"
#include "supervisor.h"

static int version(struct rpc_call *call, void *data, struct berr *err)
{
    Berth__Supervisor__V1__VersionResponse response = BERTH__SUPERVISOR__V1__VERSION_RESPONSE__INIT;
    ProtobufCMessage *request = NULL;
    int rc;

    (void)data;
    if ((rc = rpc_call_receive(call, &request, err)))
        return rc == RPC_END_OF_STREAM ? berr_set(err, BERR_INVALID, "no request") : rc;
    protobuf_c_message_free_unpacked(request, NULL);
    response.version = (char *)BERTH_VERSION;
    response.revision = (char *)BERTH_GIT_COMMIT;
    return rpc_call_send(call, &response.base, err);
}

int service_version_register(struct rpc_server *server, struct supervisor *supervisor,
                             struct berr *err)
{
    return rpc_server_register(
        server, &berth_supervisor_v1_version_methods[BERTH_SUPERVISOR_V1_VERSION_VERSION], version,
        supervisor, err);
}
