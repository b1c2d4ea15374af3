local testing = require "luakcl.testing"

local function recs(keys)
  local out = {}
  for i, k in ipairs(keys) do out[i] = {data = "r" .. i, partition_key = k} end
  return out
end

describe("count_by_key.lua", function()
  local h
  before_each(function()
    h = testing.load("scripts/examples/count_by_key.lua")
    h.script.config.checkpoint_every = 5
    h.script.config.checkpoint_ms = 1000
  end)

  it("counts records per partition key", function()
    assert.is_true(h:process(recs({"a", "b", "a"})))
    assert.is_true(h:process(recs({"a", "c"})))
    assert.are.same({a = 3, b = 1, c = 1}, h.instance.counts)
    assert.are.equal(5, h.instance.total)
  end)

  it("checkpoints every N records", function()
    assert.is_true(h:process(recs({"a", "b", "c", "d"})))
    assert.are.equal(0, #h.checkpoints)
    assert.is_true(h:process(recs({"a"})))
    assert.are.equal(1, #h.checkpoints)
    assert.are.equal(h.last_sequence, h.checkpoints[1].sequence_number)
    local log = h:logged("info", "count_by_key: checkpoint")[1]
    assert.are.equal("a=2 b=1 c=1 d=1", log.fields.top)
  end)

  it("checkpoints every T ms even with few records", function()
    assert.is_true(h:process(recs({"a"})))
    assert.are.equal(0, #h.checkpoints)
    h:advance(1000)
    assert.is_true(h:process(recs({"b"})))
    assert.are.equal(1, #h.checkpoints)
  end)

  it("retries at the next batch when a checkpoint fails", function()
    h:fail_checkpoints("throttled")
    assert.is_true(h:process(recs({"a", "a", "a", "a", "a"})))
    assert.are.equal(0, #h.checkpoints)
    assert.is_true(h:process(recs({"b"})))
    assert.are.equal(1, #h.checkpoints)
  end)

  it("checkpoints on TERMINATE and REQUESTED, not ZOMBIE", function()
    assert.is_true(h:process(recs({"a"})))
    assert.is_true(h:shutdown("ZOMBIE"))
    assert.are.equal(0, #h.checkpoints)
    h.lease_lost = false
    assert.is_true(h:shutdown("REQUESTED"))
    assert.are.equal(1, #h.checkpoints)
  end)

  it("keeps its counts across a reload", function()
    assert.is_true(h:process(recs({"a", "a"})))
    assert.is_true(h:reload())
    assert.is_true(h:process(recs({"a"})))
    assert.are.equal(3, h.instance.counts.a)
    assert.are.equal(1, #h:logged("info", "code reloaded"))
  end)
end)
