-- reload_hook_v1.lua — for it_lua_reload_hook_error.sh: writes
-- SHARD<TAB>SEQ<TAB>DATA<TAB>v1 per record to $LUAIT_OUT, checkpoints each batch.
local P = {}
function P:process_records(input)
  local f = assert(io.open(os.getenv("LUAIT_OUT"), "a"))
  for _, r in ipairs(input.records) do
    f:write(table.concat({require("luakcl").shard_id(), r.sequence_number, r.data, "v1"}, "\t"), "\n")
  end
  f:close()
  assert(input.checkpointer:checkpoint())
end
return P
