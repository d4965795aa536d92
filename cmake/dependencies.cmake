# Every library comes from a Debian package (scripts/install-deps.sh) and is
# found with pkg-config. Each becomes an imported target named deps::<name>.
find_package(PkgConfig REQUIRED)

function(berth_require name module)
  pkg_check_modules(${name} REQUIRED IMPORTED_TARGET GLOBAL ${module})
  add_library(deps::${name} ALIAS PkgConfig::${name})
endfunction()

berth_require(yajl yajl)
berth_require(crypto libcrypto)
berth_require(seccomp libseccomp)

if(BERTH_TESTS)
  berth_require(cmocka cmocka)
endif()
