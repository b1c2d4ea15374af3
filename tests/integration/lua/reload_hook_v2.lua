-- reload_hook_v2.lua — for it_lua_reload_hook_error.sh: like v1 (tag v2), and
-- its on_reload raises.
local kcl = require "luakcl"
local P = {}
function P:on_reload()
  error("on_reload cannot migrate")
end
function P:process_records(input)
  local f = assert(io.open(os.getenv("LUAIT_OUT"), "a"))
  for _, r in ipairs(input.records) do
    f:write(table.concat({kcl.shard_id(), r.sequence_number, r.data, "v2"}, "\t"), "\n")
  end
  f:close()
  assert(input.checkpointer:checkpoint())
end
return P
