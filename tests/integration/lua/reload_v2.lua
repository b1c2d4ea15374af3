-- reload_v2.lua — for it_lua_reload.sh: reload_v1.lua's successor. Tags its
-- lines "v2", keeps counting on self.counter (kept across the reload), and its
-- on_reload(self) appends SHARD<TAB>COUNTER to $LUAIT_RELOADS and logs.
local kcl = require "luakcl"
local out_path = assert(os.getenv("LUAIT_OUT"))
local reloads_path = assert(os.getenv("LUAIT_RELOADS"))
local TAG = "v2"

local P = {}

function P:initialize(input)
  self.shard = input.shard_id
  self.counter = 0
end

function P:on_reload()
  local f = assert(io.open(reloads_path, "a"))
  f:write(tostring(self.shard), "\t", tostring(self.counter), "\n")
  f:close()
  kcl.log.info("reload_v2: on_reload", {counter = self.counter})
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
