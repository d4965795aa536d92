/*
 * protocol: short names for the generated protobuf-c types of
 * proto/berth/shim/v1/shim.proto, which is the contract this program serves.
 */
#ifndef BERTH_SHIM_PROTOCOL_H
#define BERTH_SHIM_PROTOCOL_H

#include "berth/shim/v1/shim.pb-c.h"

typedef Berth__Shim__V1__Request Request;
typedef Berth__Shim__V1__Response Response;
typedef Berth__Shim__V1__IO ProcessIO;
typedef Berth__Shim__V1__Timestamp Timestamp;
typedef Berth__Shim__V1__AttachFrame AttachFrame;
typedef Berth__Shim__V1__Event Event;
typedef Berth__Shim__V1__ProcessState ProcessState;

#define RESPONSE_INIT     BERTH__SHIM__V1__RESPONSE__INIT
#define TIMESTAMP_INIT    BERTH__SHIM__V1__TIMESTAMP__INIT
#define ATTACH_FRAME_INIT BERTH__SHIM__V1__ATTACH_FRAME__INIT
#define EVENT_INIT        BERTH__SHIM__V1__EVENT__INIT

#define STREAM_STDIN  BERTH__SHIM__V1__ATTACH_FRAME__STREAM__STDIN
#define STREAM_STDOUT BERTH__SHIM__V1__ATTACH_FRAME__STREAM__STDOUT
#define STREAM_STDERR BERTH__SHIM__V1__ATTACH_FRAME__STREAM__STDERR

#endif
