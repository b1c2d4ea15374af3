-- reload_v1.lua — for it_lua_reload.sh (copied to a scratch file, then
-- replaced by reload_v2.lua while running): appends one line per record,
-- SHARD<TAB>SEQ<TAB>DATA<TAB>v1<TAB>COUNTER, to $LUAIT_OUT, where COUNTER
-- counts this shard's records on self; checkpoints each batch.
local kcl = require "luakcl"
local out_path = assert(os.getenv("LUAIT_OUT"))
local TAG = "v1"

local P = {}

function P:initialize(input)
  self.shard = input.shard_id
  self.counter = 0
end

function P:process_records(input)
  local lines = {}
  for i, r in ipairs(input.records) do
    self.counter = self.counter + 1
    lines[i] = table.concat({self.shard, r.sequence_number, r.data, TAG, self.counter}, "\t") .. "\n"
  end
  local f = assert(io.open(out_path, "a"))
  f:write(table.concat(lines))
  f:close()
  assert(input.checkpointer:checkpoint())
end

return P
