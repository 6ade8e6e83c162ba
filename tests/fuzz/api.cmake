# The API's libFuzzer target: routing, query string and filters, instants, page URIs and the
# list head, the Basic auth header. tests/fuzz/CMakeLists.txt includes this file (or carries
# the line below itself): include(${CMAKE_CURRENT_SOURCE_DIR}/api.cmake)
sidecar_fuzz_target(api SOURCES ${CMAKE_CURRENT_LIST_DIR}/api_fuzz.cpp DEPS sidecar::api)
