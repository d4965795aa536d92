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

if(BERTH_TESTS)
  berth_require(cmocka cmocka)
endif()
