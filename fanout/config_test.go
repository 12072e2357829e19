package fanout_test

import (
	"encoding/json"
	"testing"

	"github.com/shardeum/distributor/config"
	"github.com/shardeum/distributor/protocol"
)

// testConfig is the configuration JSON a child gets: defaults but for the data-log directory and,
// when queueFrames > 0, the per-client queue bound.
func testConfig(t testing.TB, dataDir string, queueFrames int) []byte {
	t.Helper()
	m := map[string]any{"DATA_LOG_DIR": dataDir, "FILE_STREAM_INTERVAL_MS": 20}
	if queueFrames > 0 {
		m["CLIENT_QUEUE_FRAMES"] = queueFrames
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hashKey is the key frames are signed with under testConfig.
func hashKey(t *testing.T, cfg []byte) protocol.HashKey {
	t.Helper()
	c, err := config.FromJSON(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c.HashKey
}
