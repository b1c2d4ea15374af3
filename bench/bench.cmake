# bench/ — the benchmark harness (bench/run) and its canned Kinesis/DynamoDB
# server. Included by the top-level CMakeLists.txt. The canned server and its
# smoke test are always built, so they cannot rot; the other benchmark
# programs only with -DLUAKCL_BENCH=ON (bench/run turns it on).
option(LUAKCL_BENCH "Build the benchmark programs in bench/ (bench/run)" OFF)

add_executable(canned_server ${CMAKE_SOURCE_DIR}/bench/canned_server.c ${CMAKE_SOURCE_DIR}/bench/canned_body.c)
target_link_libraries(canned_server PRIVATE kcl)

if(LUAKCL_TESTS)
  find_program(CURL_PROGRAM curl)
  if(CURL_PROGRAM)
    add_test(NAME bench.canned_server_smoke
             COMMAND sh ${CMAKE_SOURCE_DIR}/bench/canned_smoke.sh $<TARGET_FILE:canned_server>)
    set_tests_properties(bench.canned_server_smoke PROPERTIES TIMEOUT 60 LABELS bench)
  endif()
endif()

if(LUAKCL_BENCH)
  add_executable(decode_floor ${CMAKE_SOURCE_DIR}/bench/decode_floor.c ${CMAKE_SOURCE_DIR}/bench/canned_body.c)
  target_link_libraries(decode_floor PRIVATE kcl)
endif()
