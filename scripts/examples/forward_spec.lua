local testing = require "luakcl.testing"
local cjson = require "cjson"

describe("forward.lua", function()
  local h
  before_each(function()
    h = testing.load("scripts/examples/forward.lua", {shard_id = "shardId-000000000001"})
  end)

  it("transforms JSON records and puts them into the target stream, then checkpoints", function()
    assert.is_true(h:process({
      {data = '{"user":"ann","n":1}', partition_key = "ann"},
      {data = '{"user":"bob","n":2}', partition_key = "bob"},
    }))
    assert.are.equal(1, #h.puts)
    assert.are.equal("forwarded-events", h.puts[1].stream)
    local put = h.puts[1].records
    assert.are.equal(2, #put)
    assert.are.equal("bob", put[2].partition_key)
    local obj = cjson.decode(put[1].data)
    assert.are.equal("ann", obj.user)
    assert.are.equal("shardId-000000000001", obj.forwarded_from)
    assert.is_string(obj.source_sequence)
    assert.are.equal(1, #h.checkpoints)
  end)

  it("skips records that are not JSON objects", function()
    assert.is_true(h:process({"not json", '"a string"', '{"ok":true}'}))
    assert.are.equal(1, #h.puts[1].records)
    assert.are.equal(2, #h:logged("warn", "skipping"))
  end)

  it("retries the records that failed, with backoff", function()
    local calls = 0
    h.opts.put_records = function(stream, records)
      calls = calls + 1
      local results, failed = {}, 0
      for i, r in ipairs(records) do
        if calls == 1 and i == 2 then
          results[i] = {error_code = "ProvisionedThroughputExceededException", error_message = "slow"}
          failed = failed + 1
        else
          results[i] = {sequence_number = "1", shard_id = "shardId-000000000000"}
        end
      end
      return results, failed
    end
    assert.is_true(h:process({'{"a":1}', '{"b":2}', '{"c":3}'}))
    assert.are.equal(2, #h.puts)
    assert.are.equal(1, #h.puts[2].records)
    assert.are.same({b = 2}, {b = cjson.decode(h.puts[2].records[1].data).b})
    assert.are.equal(100, h.slept)
    assert.are.equal(1, #h.checkpoints)
  end)

  it("fails the batch without checkpointing when puts keep failing", function()
    h.opts.put_records = function() return nil, "put_records failed (throttled): slow down" end
    local ok, err = h:process({'{"a":1}'})
    assert.is_nil(ok)
    assert.matches("could not be put", err)
    assert.are.equal(0, #h.checkpoints)
    assert.are.equal(4, #h.puts)
  end)
end)
