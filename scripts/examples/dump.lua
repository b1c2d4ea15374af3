-- dump.lua — log every record, checkpoint after every batch, and checkpoint
-- at the end of a shard (TERMINATE) so its children can start.
local kcl = require "luakcl"

local MAX_SHOWN = 200   -- bytes of each record's data put in the log

local function printable(data)
  local shown = data:sub(1, MAX_SHOWN):gsub("[^\32-\126]", ".")
  if #data > MAX_SHOWN then shown = shown .. "..." end
  return shown
end

local P = {}

function P:initialize(input)
  self.records = 0
  kcl.log.info("dump: starting", {from = input.sequence_number})
end

function P:process_records(input)
  for _, r in ipairs(input.records) do
    kcl.log.info("record", {
      seq = r.sequence_number,
      key = r.partition_key,
      size = #r.data,
      data = printable(r.data),
    })
  end
  self.records = self.records + #input.records
  local ok, err = input.checkpointer:checkpoint()
  if not ok then kcl.log.warn("dump: checkpoint failed", {error = err}) end
end

function P:shutdown(input)
  kcl.log.info("dump: shutting down", {reason = input.reason, records = self.records})
  if input.reason == "TERMINATE" then
    local ok, err = input.checkpointer:checkpoint()
    if not ok then kcl.log.warn("dump: final checkpoint failed", {error = err}) end
  end
end

return P
