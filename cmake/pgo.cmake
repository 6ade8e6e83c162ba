# Profile-guided optimisation of the release programs (docs/architecture.md, "Building
# and testing"). With SIDECAR_PGO on, the build first builds an instrumented copy of the
# project in <build>/pgo-train (SIDECAR_PGO_GENERATE), runs its training load (pgo/train.cpp,
# webhooks recorded through a proxy in one process), and compiles every source of this build
# with the profile that left (-fprofile-use): GCC then inlines and lays out the code for the
# paths a recorded exchange takes, and moves the rest aside. -fprofile-prefix-path makes the
# profile's file names relative to each build directory, so that the sub-build's profile is
# found for this build's objects. The sub-build is a step of every build of this directory:
# ninja there rebuilds what changed, and the training runs again (about half a minute) when
# its program was rebuilt (cmake/pgo_train.cmake), so that the profile follows the code.
# sidecar_pgo_after(<target>): the target compiles once the profile is there.
function(sidecar_pgo_after target)
  if(TARGET pgo_profile)
    add_dependencies(${target} pgo_profile)
  endif()
endfunction()

option(SIDECAR_PGO "Compile with the profile of a training load (GCC; release preset)" OFF)
set(SIDECAR_PGO_GENERATE "" CACHE PATH "Instrumented build: profiles written to this directory")

if(SIDECAR_PGO_GENERATE)
  add_compile_options(-fprofile-generate=${SIDECAR_PGO_GENERATE} -fprofile-update=atomic
                      -fprofile-prefix-path=${CMAKE_BINARY_DIR})
  add_link_options(-fprofile-generate=${SIDECAR_PGO_GENERATE})
elseif(SIDECAR_PGO)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    message(FATAL_ERROR "SIDECAR_PGO needs GCC (-fprofile-prefix-path)")
  endif()
  include(ExternalProject)
  set(pgo_data ${CMAKE_BINARY_DIR}/pgo-data)
  set(pgo_train_dir ${CMAKE_BINARY_DIR}/pgo-train)
  ExternalProject_Add(pgo_profile
    SOURCE_DIR ${PROJECT_SOURCE_DIR}
    BINARY_DIR ${pgo_train_dir}
    CMAKE_ARGS -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE} -DSIDECAR_WERROR=${SIDECAR_WERROR}
               -DSIDECAR_TESTS=OFF -DSIDECAR_BENCH=OFF -DSIDECAR_PGO_GENERATE=${pgo_data}
               -DSIDECAR_JEMALLOC=${SIDECAR_JEMALLOC}
    BUILD_COMMAND ${CMAKE_COMMAND} --build ${pgo_train_dir} --target pgo_train
    INSTALL_COMMAND ${CMAKE_COMMAND} -DPROGRAM=${pgo_train_dir}/pgo/pgo_train
                    -DDATA=${pgo_data} -P ${PROJECT_SOURCE_DIR}/cmake/pgo_train.cmake
    BUILD_ALWAYS ON
    USES_TERMINAL_BUILD ON)
  add_compile_options(-fprofile-use=${pgo_data} -fprofile-partial-training -Wno-missing-profile
                      -fprofile-prefix-path=${CMAKE_BINARY_DIR})
endif()
