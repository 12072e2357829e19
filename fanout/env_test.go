package fanout_test

import (
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestChildGOGC: a spawned child starts with GOGC=50 unless the parent's environment gives GOGC a
// value, which the child then gets instead. Read from the running child's /proc/<pid>/environ,
// which is what its Go runtime read at start.
func TestChildGOGC(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/<pid>/environ")
	}
	for _, tc := range []struct{ parent, want string }{
		{"", "50"}, // an empty value is unset, as the Go runtime reads it
		{"77", "77"},
		{"off", "off"},
	} {
		t.Run("GOGC="+tc.parent, func(t *testing.T) {
			t.Setenv("GOGC", tc.parent)
			p := spawn(t, testConfig(t, t.TempDir(), 0), nil)
			b, err := os.ReadFile("/proc/" + strconv.Itoa(p.Pid()) + "/environ")
			if err != nil {
				t.Fatalf("read the child's environment: %v", err)
			}
			var got []string
			for _, kv := range strings.Split(string(b), "\x00") {
				if v, ok := strings.CutPrefix(kv, "GOGC="); ok {
					got = append(got, v)
				}
			}
			if !slices.Equal(got, []string{tc.want}) {
				t.Fatalf("parent GOGC=%q: child's GOGC values %q, want exactly [%q]", tc.parent, got, tc.want)
			}
		})
	}
}
