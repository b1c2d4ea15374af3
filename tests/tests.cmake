# Every kind of test is a ctest test, so ctest's closing line counts them all.
#   tests/unit/test_<module>.c     C unit tests (plain asserts), one per module
#   tests/integration/it_<name>.c  C integration tests, run inside tests/harness/with-servers.js
#                                  (real kinesalite + dynalite on free loopback ports)
#   tests/integration/it_<name>.sh shell integration tests, same harness
#   tests/lua/<name>_spec.lua      busted specs, run under LuaJIT
#   tests/fuzz/fuzz_<name>.c       libFuzzer targets; without LUAKCL_FUZZ they replay their corpus

find_program(NODE node REQUIRED)
find_program(BUSTED busted)
find_program(LUAJIT_BIN luajit)
set(HARNESS ${CMAKE_SOURCE_DIR}/tests/harness/with-servers.js)
set(TEST_ENV "NODE_NO_WARNINGS=1;LUAKCL_SOURCE_DIR=${CMAKE_SOURCE_DIR};LUAKCL_BUILD_DIR=${CMAKE_BINARY_DIR}")
if(LUAKCL_SANITIZE)
  list(APPEND TEST_ENV "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1"
                       "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
endif()

# testlib: checks and the bounded loop run every C test uses; itlib: what
# the C integration tests share (clients, a recording processor, waiting helpers).
add_library(kcltest STATIC ${CMAKE_SOURCE_DIR}/tests/unit/testlib.c
                           ${CMAKE_SOURCE_DIR}/tests/integration/itlib.c)
target_include_directories(kcltest PUBLIC ${CMAKE_SOURCE_DIR}/tests/unit ${CMAKE_SOURCE_DIR}/tests/integration)
target_link_libraries(kcltest PUBLIC kcl)

file(GLOB UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c)
foreach(src ${UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE kcltest)
  add_test(NAME unit.${name} COMMAND ${name})
  set_tests_properties(unit.${name} PROPERTIES ENVIRONMENT "${TEST_ENV}" TIMEOUT 120 LABELS unit)
endforeach()

# Harness options a test asks for in its source: a line containing "harness: ARGS".
function(harness_args src out)
  file(STRINGS ${src} line REGEX "harness:" LIMIT_COUNT 1)
  set(args "")
  if(line)
    string(REGEX REPLACE ".*harness:[ \t]*" "" line "${line}")
    string(REPLACE "*/" "" line "${line}")
    string(STRIP "${line}" line)
    separate_arguments(args UNIX_COMMAND "${line}")
  endif()
  set(${out} ${args} PARENT_SCOPE)
endfunction()

# The command that runs an integration test: `node with-servers.js ARGS -- TEST...`.
# The harness token `netns` (not passed on) runs all of it inside a private
# network namespace with only loopback up, for servers that bind 0.0.0.0
# (kinesis-local): `unshare -n sh -c 'ip link set lo up && exec "$@"' ...`.
function(harness_command hargs out)
  set(args ${hargs})
  list(FIND args netns at)
  if(at GREATER -1)
    list(REMOVE_AT args ${at})
    set(${out} unshare -n sh -c "ip link set lo up && exec \"\$@\"" netns ${NODE} ${HARNESS} ${args} PARENT_SCOPE)
  else()
    set(${out} ${NODE} ${HARNESS} ${args} PARENT_SCOPE)
  endif()
endfunction()

file(GLOB IT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/integration/it_*.c)
foreach(src ${IT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE kcltest)
  harness_args(${src} hargs)
  harness_command("${hargs}" hcmd)
  add_test(NAME integration.${name} COMMAND ${hcmd} -- $<TARGET_FILE:${name}>)
  set_tests_properties(integration.${name} PROPERTIES ENVIRONMENT "${TEST_ENV}" TIMEOUT 300 LABELS integration)
endforeach()

# Test drivers: plain executables (not tests) that integration scripts run,
# e.g. tests/integration/core/*.js spawn core_driver workers.
file(GLOB IT_DRIVERS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/integration/drivers/*.c)
foreach(src ${IT_DRIVERS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE kcltest)
endforeach()

file(GLOB IT_SCRIPTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/integration/it_*.sh)
foreach(src ${IT_SCRIPTS})
  get_filename_component(name ${src} NAME_WE)
  harness_args(${src} hargs)
  harness_command("${hargs}" hcmd)
  add_test(NAME integration.${name} COMMAND ${hcmd} -- bash ${src})
  set_tests_properties(integration.${name} PROPERTIES ENVIRONMENT "${TEST_ENV}" TIMEOUT 300 LABELS integration)
endforeach()

file(GLOB LUA_SPECS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/lua/*_spec.lua
                                      ${CMAKE_SOURCE_DIR}/scripts/examples/*_spec.lua)
if(LUA_SPECS AND (NOT BUSTED OR NOT LUAJIT_BIN))
  message(FATAL_ERROR "busted or luajit not found: the Lua specs cannot run (apt-get install lua-busted luajit2)")
endif()
foreach(spec ${LUA_SPECS})
  get_filename_component(name ${spec} NAME_WE)
  # busted runs under LuaJIT directly: its own --lua=luajit restarts it
  # through a shell without quoting the arguments.
  add_test(NAME lua.${name}
           COMMAND ${LUAJIT_BIN} ${BUSTED} -o utfTerminal
                   --lpath=${CMAKE_SOURCE_DIR}/lua/?.lua
                   ${spec}
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(lua.${name} PROPERTIES ENVIRONMENT "${TEST_ENV}" TIMEOUT 120 LABELS lua)
endforeach()

file(GLOB FUZZ_TARGETS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
foreach(src ${FUZZ_TARGETS})
  get_filename_component(name ${src} NAME_WE)
  set(corpus ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${name})
  if(LUAKCL_FUZZ)
    add_executable(${name} ${src})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${name} PRIVATE kcl)
    # Fuzz into a scratch copy of the corpus so the source tree is never written.
    add_test(NAME fuzz.${name}
             COMMAND sh -c "rm -rf work && mkdir -p work && cp -r '${corpus}/.' work/ 2>/dev/null; exec '$<TARGET_FILE:${name}>' -max_total_time=${LUAKCL_FUZZ_SECONDS} -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 work"
             WORKING_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz-${name})
    file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz-${name})
    set_tests_properties(fuzz.${name} PROPERTIES TIMEOUT 300 LABELS fuzz)
  else()
    add_executable(${name} ${src} ${CMAKE_SOURCE_DIR}/tests/fuzz/replay_main.c)
    target_link_libraries(${name} PRIVATE kcl)
    add_test(NAME fuzz_replay.${name} COMMAND ${name} ${corpus})
    set_tests_properties(fuzz_replay.${name} PROPERTIES TIMEOUT 120 LABELS fuzz)
  endif()
endforeach()
