-- record_writer.lua — for it_lua_exactly_once.sh: appends one line per record,
-- SHARD<TAB>SEQ<TAB>DATA, to the file named by $LUAIT_OUT, then checkpoints
-- the batch. A failed checkpoint raises (the test wants to see it).
local kcl = require "luakcl"
local out_path = assert(os.getenv("LUAIT_OUT"), "LUAIT_OUT not set")

local P = {}

function P:initialize(input)
  self.shard = input.shard_id
  self.batches = 0
end

function P:process_records(input)
  local lines = {}
  for i, r in ipairs(input.records) do
    lines[i] = self.shard .. "\t" .. r.sequence_number .. "\t" .. r.data .. "\n"
  end
  local f = assert(io.open(out_path, "a"))
  f:write(table.concat(lines))
  f:close()
  self.batches = self.batches + 1
  assert(input.checkpointer:checkpoint())
end

function P:shutdown(input)
  kcl.log.info("record_writer: shutdown", {reason = input.reason, batches = self.batches})
  if input.reason == "TERMINATE" then assert(input.checkpointer:checkpoint()) end
end

return P
