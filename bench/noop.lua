-- bench/noop.lua — the benchmark's record processor: touches nothing, counts
-- the records, and checkpoints at the end of every batch (bench/run).
local P = {}

function P:initialize(input)
  self.n = 0
end

function P:process_records(input)
  self.n = self.n + #input.records
  input.checkpointer:checkpoint()
end

function P:shutdown(input)
  if input.reason == "TERMINATE" then input.checkpointer:checkpoint() end
end

return P
