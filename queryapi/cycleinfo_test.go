package queryapi_test

import (
	"testing"
)

func counters(t *testing.T, m map[string]any) []float64 {
	var out []float64
	for _, c := range list(t, m, "cycleInfo") {
		out = append(out, field(t, c, "counter").(float64))
	}
	return out
}

func TestCycleInfo(t *testing.T) {
	e := newEnv(t)
	type tc struct {
		name   string
		params map[string]any
		want   []float64 // counters, in order
		err    string
	}
	cases := []tc{
		{"count newest first", map[string]any{"count": 3.0}, []float64{49, 48, 47}, ""},
		{"count over the archive", map[string]any{"count": 100.0}, nil, ""},
		{"count negative", map[string]any{"count": -1.0}, nil, "Invalid count"},
		{"count too big, with the period", map[string]any{"count": 101.0}, nil, "Max count is 100."},
		{"count fractional fails in SQL: []", map[string]any{"count": 1.5}, []float64{}, ""},
		{"count wins over start", map[string]any{"count": 1.0, "start": 3.0}, []float64{49}, ""},
		{"count 0 falls through to start", map[string]any{"count": 0.0, "start": 3.0}, []float64{3}, ""},
		{"start alone", map[string]any{"start": 5.0}, []float64{5}, ""},
		{"start 0", map[string]any{"start": 0.0, "end": 2.0}, []float64{0, 1, 2}, ""},
		{"end 0 is absent", map[string]any{"start": 4.0, "end": 0.0}, []float64{4}, ""},
		{"fractional bounds", map[string]any{"start": 2.5, "end": 4.0}, []float64{3, 4}, ""},
		{"end before start", map[string]any{"start": 7.0, "end": 5.0}, nil, "Invalid start and end counters"},
		{"start negative", map[string]any{"start": -1.0, "end": 5.0}, nil, "Invalid start and end counters"},
		{"MAX+1 cycles allowed", map[string]any{"start": 0.0, "end": 100.0}, nil, ""},
		{"too many cycles", map[string]any{"start": 0.0, "end": 101.0}, nil, "Exceed maximum limit of 100 cycles"},
		{"beyond the archive", map[string]any{"start": 60.0, "end": 70.0}, []float64{}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.post("/cycleinfo", c.params)
			if c.err != "" {
				e.errorReply(r, c.err)
				return
			}
			m := e.signedReply(r)
			got := counters(t, m)
			if c.want == nil {
				if len(got) != 50 {
					t.Errorf("got %d cycles", len(got))
				}
				return
			}
			if len(got) != len(c.want) {
				t.Fatalf("counters %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("counters %v, want %v", got, c.want)
				}
			}
		})
	}

	t.Run("cycleRecord decoded, nothing else", func(t *testing.T) {
		m := e.signedReply(e.post("/cycleinfo", map[string]any{"start": 1.0}))
		rec := list(t, m, "cycleInfo")[0].(map[string]any)
		if rec["mode"] != "processing" || rec["duration"] != 60.0 || rec["start"] != 1700000060.0 {
			t.Errorf("record %v", rec)
		}
		if _, ok := rec["cycleMarker"]; ok {
			t.Error("row columns leaked into cycleInfo")
		}
	})

	t.Run("no selector: unsigned error", func(t *testing.T) {
		r := e.post("/cycleinfo", map[string]any{})
		if r.status != 200 || string(r.body) != `{"error":"not specified which cycle to show","success":false}` {
			t.Errorf("%d %s", r.status, r.body)
		}
	})
}
