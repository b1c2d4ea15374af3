-- raiser.lua — for it_lua_on_error.sh: like record_writer.lua, but a batch
-- holding the record whose data is $LUAIT_MARKER raises on its first two
-- deliveries. Each delivery of that batch appends to $LUAIT_ATTEMPTS a line
-- ATTEMPT<TAB>SHARD<TAB>FIRST_SEQ<TAB>LAST_SEQ<TAB>COUNT<TAB>STATUS_JSON, where
-- STATUS_JSON is the lease table at that moment (`$LUAIT_STATUS_CMD`).
local out_path = assert(os.getenv("LUAIT_OUT"))
local attempts_path = assert(os.getenv("LUAIT_ATTEMPTS"))
local marker = assert(os.getenv("LUAIT_MARKER"))
local status_cmd = assert(os.getenv("LUAIT_STATUS_CMD"))

local attempts = 0

local function refuse(n)
  error("marker batch refused, attempt " .. n)
end

local P = {}

function P:initialize(input)
  self.shard = input.shard_id
end

function P:process_records(input)
  local recs = input.records
  for _, r in ipairs(recs) do
    if r.data == marker then
      attempts = attempts + 1
      local p = assert(io.popen(status_cmd))
      local status = p:read("*a"):gsub("\n", " ")
      p:close()
      local f = assert(io.open(attempts_path, "a"))
      f:write(table.concat({attempts, self.shard, recs[1].sequence_number, recs[#recs].sequence_number,
                            #recs, status}, "\t"), "\n")
      f:close()
      if attempts <= 2 then refuse(attempts) end
      break
    end
  end
  local lines = {}
  for i, r in ipairs(recs) do
    lines[i] = self.shard .. "\t" .. r.sequence_number .. "\t" .. r.data .. "\n"
  end
  local f = assert(io.open(out_path, "a"))
  f:write(table.concat(lines))
  f:close()
  assert(input.checkpointer:checkpoint())
end

return P
