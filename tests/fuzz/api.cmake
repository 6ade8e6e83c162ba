# The API's libFuzzer target (clang, SIDECAR_FUZZ=ON). Included by tests/fuzz/CMakeLists.txt,
# which uses its sidecar_fuzz_target() when it has one.
if(COMMAND sidecar_fuzz_target)
  sidecar_fuzz_target(api_fuzz ${CMAKE_CURRENT_LIST_DIR}/api_fuzz.cpp DEPS sidecar::api)
else()
  add_executable(api_fuzz ${CMAKE_CURRENT_LIST_DIR}/api_fuzz.cpp)
  target_link_libraries(api_fuzz PRIVATE sidecar::api)
  sidecar_target_options(api_fuzz)
  target_compile_options(api_fuzz PRIVATE -fsanitize=fuzzer)
  target_link_options(api_fuzz PRIVATE -fsanitize=fuzzer)
endif()
