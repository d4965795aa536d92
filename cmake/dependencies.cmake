# Every library comes from a Debian package (scripts/install-deps.sh) and is
# found with pkg-config. Each becomes an imported target named deps::<name>.
find_package(PkgConfig REQUIRED)

function(berth_require name module)
  pkg_check_modules(${name} REQUIRED IMPORTED_TARGET GLOBAL ${module})
  add_library(deps::${name} ALIAS PkgConfig::${name})
endfunction()

# A static archive from a Debian -dev package, with the include dirs of its
# pkg-config module. berth-runtime links statically: it starts for every
# container, and a static binary skips the dynamic loader's work.
function(berth_require_static name module archive)
  pkg_check_modules(${name}_pc REQUIRED ${module})
  find_library(${name}_archive NAMES ${archive} REQUIRED)
  add_library(deps::${name} STATIC IMPORTED GLOBAL)
  set_target_properties(deps::${name} PROPERTIES
    IMPORTED_LOCATION ${${name}_archive}
    INTERFACE_INCLUDE_DIRECTORIES "${${name}_pc_INCLUDE_DIRS}")
endfunction()

berth_require_static(yajl yajl libyajl_s.a)
berth_require_static(seccomp libseccomp libseccomp.a)
berth_require(crypto libcrypto)
berth_require(protobuf_c libprotobuf-c)
# The shim links statically too (docs/shim.md: memory per container).
berth_require_static(protobuf_c_static libprotobuf-c libprotobuf-c.a)
berth_require(lmdb lmdb)
berth_require(archive libarchive)
berth_require(microhttpd libmicrohttpd)
# The CLI's HTTP over the engine's unix socket (and, later, the registry client).
berth_require(curl libcurl)

# gRPC core: link only what a dynamic link needs (pkg-config --libs lists
# every abseil archive, which matters for static links only). The
# "unsecure" build: the supervisor listens on a unix socket, and it saves
# ~3 MB of RSS and milliseconds of start-up (see the notes in docs/).
pkg_check_modules(grpc_pc REQUIRED grpc_unsecure)
add_library(deps::grpc INTERFACE IMPORTED GLOBAL)
set_target_properties(deps::grpc PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${grpc_pc_INCLUDE_DIRS}"
  INTERFACE_LINK_LIBRARIES "grpc_unsecure;gpr;pthread")

if(BERTH_TESTS)
  berth_require(cmocka cmocka)
endif()
