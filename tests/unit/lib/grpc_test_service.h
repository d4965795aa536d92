/*
 * grpc_test_service: the berth.test.v1.Echo service (tests/unit/proto/
 * grpc_test.proto) served with lib/grpc_server, shared by the unit tests of
 * the gRPC binding and the interop test's C server, so both exercise the
 * same handlers.
 */
#ifndef BERTH_GRPC_TEST_SERVICE_H
#define BERTH_GRPC_TEST_SERVICE_H

#include "grpc_server.h"

struct echo_service {
    int cancellations_seen; /* handlers that saw rpc_call_cancelled (atomic) */
};

int echo_service_register(struct rpc_server *server, struct echo_service *service,
                          struct berr *err);

#endif
