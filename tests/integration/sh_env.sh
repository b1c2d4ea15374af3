# Sourced by the shell integration tests that drive the luakcl command
# (it_cli.sh, and it_lua_*.sh through lua/common.sh); runs inside
# tests/harness/with-servers.js. Sets BIN (the luakcl command), NODE_PATH for
# the helpers, the AWS SDK's endpoints to the harness's kinesalite and
# dynalite, tmp (a fresh directory; the caller removes it on exit), and the
# pass/fail count: ok, bad MESSAGE.
BIN="$LUAKCL_BUILD_DIR/luakcl"
export NODE_PATH="$LUAKCL_SOURCE_DIR/tests/harness/node_modules"
export AWS_ENDPOINT_URL_KINESIS="$LUAKCL_TEST_KINESIS_ENDPOINT"
export AWS_ENDPOINT_URL_DYNAMODB="$LUAKCL_TEST_DYNAMODB_ENDPOINT"
tmp=$(mktemp -d)
passed=0 failed=0
ok()  { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
