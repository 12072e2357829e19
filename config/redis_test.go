package config_test

import (
	"strings"
	"testing"

	"github.com/shardeum/distributor/config"
)

// The Redis keys take their defaults, and the layers override them in the usual order.
func TestRedisKeys(t *testing.T) {
	c := mustLoad(t, config.LoadOptions{}, nil)
	if c.FirehoseSource != "files" || c.RedisStreamPrefix != "distributor:" || c.RedisStreamMaxLen != 100000 ||
		c.RedisURL != config.DefaultRedisURL {
		t.Errorf("defaults: source %q prefix %q maxlen %d url %q", c.FirehoseSource, c.RedisStreamPrefix, c.RedisStreamMaxLen, c.RedisURL)
	}
	dir := t.TempDir()
	writeFile(t, dir, config.DefaultFile, `{"FIREHOSE_SOURCE": "redis", "REDIS_URL": "redis://file:1/1", "REDIS_STREAM_MAXLEN": 5}`)
	c = mustLoad(t, config.LoadOptions{Dir: dir, Flags: []config.FlagValue{{Key: "REDIS_STREAM_MAXLEN", Value: "7"}}},
		env{"REDIS_URL": "rediss://u:pw@env:6380/2", "REDIS_STREAM_PREFIX": "x:"})
	if c.FirehoseSource != "redis" || c.RedisURL != "rediss://u:pw@env:6380/2" || c.RedisStreamPrefix != "x:" || c.RedisStreamMaxLen != 7 {
		t.Errorf("layers: source %q url %q prefix %q maxlen %d", c.FirehoseSource, c.RedisURL, c.RedisStreamPrefix, c.RedisStreamMaxLen)
	}
	if src := c.Source(config.KeyRedisURL); src.Kind != config.FromEnv {
		t.Errorf("REDIS_URL from %v, want the environment", src)
	}
	// The password is shown redacted to people, and handed whole to children.
	if s := string(c.RedactedJSON()); strings.Contains(s, "pw") || !strings.Contains(s, "rediss://u:<redacted>@env:6380/2") {
		t.Errorf("redacted configuration shows %s", s)
	}
	back, err := config.FromJSON(c.JSON())
	if err != nil || back.RedisURL != c.RedisURL || back.FirehoseSource != "redis" || back.RedisStreamMaxLen != 7 {
		t.Errorf("round trip: %v %+v", err, back)
	}
}

func TestRedisKeyErrors(t *testing.T) {
	for _, tc := range []struct {
		env  env
		want string
	}{
		{env{"FIREHOSE_SOURCE": "kafka"}, `config: FIREHOSE_SOURCE: "kafka" from environment is not "files" or "redis"`},
		{env{"REDIS_URL": "http://x:1"}, `config: REDIS_URL: "http://x:1" from environment must start with redis:// or rediss://`},
		{env{"REDIS_URL": "redis://"}, `config: REDIS_URL: "redis://" from environment names no host (want redis://host:port/db)`},
		{env{"REDIS_URL": "redis://h:99999"}, `config: REDIS_URL: "redis://h:99999" from environment has a bad port (1 to 65535)`},
		{env{"REDIS_URL": "redis://:secret@h:1/x"}, `config: REDIS_URL: "redis://:<redacted>@h:1/x" from environment has a bad db number (the path must be a non-negative integer, e.g. /0)`},
		{env{"REDIS_STREAM_PREFIX": " "}, `config: REDIS_STREAM_PREFIX: " " from environment is empty`},
		{env{"REDIS_STREAM_MAXLEN": "0"}, `config: REDIS_STREAM_MAXLEN: 0 from environment must be positive`},
	} {
		_, err := load(t, config.LoadOptions{}, tc.env)
		wantError(t, err, tc.want)
	}
}
