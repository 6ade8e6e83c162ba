# Options shared by every target of the project: warnings, sanitizers, the Asio/Beast
# separate-compilation mode (their sources are compiled once, in sidecar::support).

add_library(sidecar_options INTERFACE)
target_compile_definitions(sidecar_options INTERFACE
  BOOST_ASIO_SEPARATE_COMPILATION
  BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED
  # Asio's per-thread cache of freed coroutine frames (and handlers): 2 blocks by default, too
  # few for a proxy thread whose connections each nest several coroutines (docs/proxy.md,
  # "Allocations"). It changes the layout of a per-thread structure: defined for every target.
  BOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE=32)
target_compile_options(sidecar_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
if(SIDECAR_WERROR)
  target_compile_options(sidecar_options INTERFACE -Werror)
endif()
if(SIDECAR_SANITIZE)
  target_compile_options(sidecar_options INTERFACE -fsanitize=${SIDECAR_SANITIZE} -fno-omit-frame-pointer
                                                   -fno-sanitize-recover=all)
  target_link_options(sidecar_options INTERFACE -fsanitize=${SIDECAR_SANITIZE})
  # clang 14's -fsanitize=function (part of `undefined`) cannot compile some C++20 coroutines
  # ("Cannot represent a difference across sections"); it only checks calls through function
  # pointers of the wrong type, which C++ code does not make.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND SIDECAR_SANITIZE MATCHES "undefined")
    target_compile_options(sidecar_options INTERFACE -fno-sanitize=function)
  endif()
endif()
target_link_libraries(sidecar_options INTERFACE Threads::Threads)

# sidecar_target_options(<target>): the project's compile options on one target.
function(sidecar_target_options target)
  target_link_libraries(${target} PRIVATE sidecar_options)
endfunction()

# The allocator the programs ship with: jemalloc, whose frees from another thread than the
# allocating one and whose reuse of freed pages cost the store's threads less than glibc's
# (docs/store.md, "The allocator"); none in the sanitizer builds, whose runtimes bring their own.
add_library(sidecar_allocator INTERFACE)
if(TARGET PkgConfig::JEMALLOC)
  target_link_libraries(sidecar_allocator INTERFACE PkgConfig::JEMALLOC)
endif()

# sidecar_program(<target>): a program that does the sidecar's work (the sidecar, and the
# benchmark programs that stand for it): the project's options and the shipped allocator.
function(sidecar_program target)
  sidecar_target_options(${target})
  target_link_libraries(${target} PRIVATE sidecar_allocator)
  sidecar_pgo_after(${target})
endfunction()

# sidecar_library(<folder> SOURCES ... DEPS ...): the one library target of a source folder,
# named sidecar_<folder> and aliased sidecar::<folder>.
function(sidecar_library folder)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(sidecar_${folder} STATIC ${ARG_SOURCES})
  add_library(sidecar::${folder} ALIAS sidecar_${folder})
  target_include_directories(sidecar_${folder} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(sidecar_${folder} PUBLIC sidecar_options ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  sidecar_pgo_after(sidecar_${folder})
endfunction()
