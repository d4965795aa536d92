# Makes build/generated/berth_version.h with the version and the git commit,
# which every program prints for --version.
find_package(Git QUIET)
set(BERTH_GIT_COMMIT "unknown")
if(GIT_FOUND)
  execute_process(
    COMMAND ${GIT_EXECUTABLE} rev-parse --short=12 HEAD
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
    OUTPUT_VARIABLE BERTH_GIT_COMMIT_OUT
    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET
    RESULT_VARIABLE BERTH_GIT_RESULT)
  if(BERTH_GIT_RESULT EQUAL 0 AND BERTH_GIT_COMMIT_OUT)
    set(BERTH_GIT_COMMIT ${BERTH_GIT_COMMIT_OUT})
  endif()
endif()
configure_file(${CMAKE_SOURCE_DIR}/cmake/berth_version.h.in
               ${CMAKE_BINARY_DIR}/generated/berth_version.h @ONLY)
