package parent

import (
	"testing"
	"time"

	"github.com/shardeum/distributor/child"
)

// A reader's standing problem is reported as Redis's when the reader reads a Redis stream, and as
// the data log's otherwise.
func TestProblemReasonNamesRedis(t *testing.T) {
	files := problemReason(7, child.ReaderStats{Stream: "receipt", Source: "files"}, 61*time.Second, time.Minute, "dir-missing\nagain")
	if want := "child 7 reader receipt: problem standing for 1m1s (HEALTH_READER_PROBLEM_MS 60000): dir-missing; again"; files != want {
		t.Errorf("files reader:\n got %q\nwant %q", files, want)
	}
	redis := problemReason(7, child.ReaderStats{Stream: "receipt", Source: "redis", Key: "distributor:receipt"}, 61*time.Second, time.Minute,
		"dial tcp 127.0.0.1:6379: connect: connection refused")
	if want := "child 7 reader receipt (Redis stream distributor:receipt): problem standing for 1m1s (HEALTH_READER_PROBLEM_MS 60000): Redis: dial tcp 127.0.0.1:6379: connect: connection refused"; redis != want {
		t.Errorf("redis reader:\n got %q\nwant %q", redis, want)
	}
	// A message that already says Redis is not prefixed again.
	if got := problemReason(7, child.ReaderStats{Stream: "cycle", Source: "redis", Key: "d:cycle"}, time.Minute, time.Second, "Redis unreachable: EOF"); got !=
		"child 7 reader cycle (Redis stream d:cycle): problem standing for 1m0s (HEALTH_READER_PROBLEM_MS 1000): Redis unreachable: EOF" {
		t.Errorf("redis reader with a Redis message: %q", got)
	}
}
