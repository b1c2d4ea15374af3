rockspec_format = "3.0"
package = "luakcl"
version = "scm-1"
source = {
   url = "git+https://github.com/luakcl/luakcl.git",
}
description = {
   summary = "Kinesis Client Library runtime in C with Lua record processors",
   detailed = [[
luakcl consumes Amazon Kinesis Data Streams with the KCL's model (leases in
DynamoDB, one record processor per shard, checkpoints, failover, resharding)
on one libev loop; record processors are Lua scripts run by LuaJIT. The rock
installs the `luakcl` command and the `luakcl.*` Lua helpers (luakcl.testing).
]],
   license = "Apache-2.0",
   labels = { "kinesis", "aws", "kcl", "streaming" },
}
dependencies = {
   "lua >= 5.1",
   "lua-cjson",
}
external_dependencies = {
   -- found by CMake itself (pkg-config / find_path): LuaJIT, libcurl, OpenSSL 3, libev, jsmn
}
build = {
   type = "cmake",
   variables = {
      CMAKE_BUILD_TYPE = "Release",
      CMAKE_INSTALL_PREFIX = "$(PREFIX)",
      LUADIR = "$(LUADIR)",
      LIBDIR = "$(LIBDIR)",
      BINDIR = "$(BINDIR)",
      LUA_INCDIR = "$(LUA_INCDIR)",
      LUAKCL_TESTS = "OFF",
   },
}
test = {
   type = "busted",
   flags = { "--lua=luajit", "tests/lua" },
}
