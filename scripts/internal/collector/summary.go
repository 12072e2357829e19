package collector

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// StreamSummary totals one stream over all clients.
type StreamSummary struct {
	Frames     int64 `json:"frames"`
	Bytes      int64 `json:"bytes"`
	Invalid    int64 `json:"invalid"`
	Verified   int64 `json:"verified"`
	Gaps       int64 `json:"gaps"`    // jumps forward in seq
	Missing    int64 `json:"missing"` // seqs between a client's first and newest never received
	Duplicates int64 `json:"duplicates"`
	OutOfOrder int64 `json:"outOfOrder"`
	// Per client: fewest and most valid frames received.
	MinPerClient int64 `json:"minPerClient"`
	MaxPerClient int64 `json:"maxPerClient"`
	// Lowest first seq and highest newest seq over clients; 0 when no frame had a seq.
	FirstSeq int64 `json:"firstSeq"`
	LastSeq  int64 `json:"lastSeq"`
	// Clients whose frames carried no seq (order checked by cursor continuity).
	ClientsWithoutSeq int     `json:"clientsWithoutSeq,omitempty"`
	Latency           Latency `json:"latency"`
}

// Latency is append->receive time (from writtenAt), in milliseconds.
type Latency struct {
	Count  uint64  `json:"count"`
	P50ms  float64 `json:"p50ms"`
	P99ms  float64 `json:"p99ms"`
	MaxMs  float64 `json:"maxMs"`
	MeanMs float64 `json:"meanMs"`
}

// Close counts how subscriptions ended.
type Close struct {
	End    End    `json:"end"`
	Code   int    `json:"code"`
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// Summary totals a run of one or more clients.
type Summary struct {
	Clients    int                      `json:"clients"`
	Seconds    float64                  `json:"seconds"`
	Frames     int64                    `json:"frames"`
	Bytes      int64                    `json:"bytes"`
	Invalid    int64                    `json:"invalid"`
	Verified   int64                    `json:"verified"`
	Gaps       int64                    `json:"gaps"`
	Missing    int64                    `json:"missing"`
	Duplicates int64                    `json:"duplicates"`
	OutOfOrder int64                    `json:"outOfOrder"`
	Abnormal   int                      `json:"abnormal"` // subscriptions that ended abnormally
	Latency    Latency                  `json:"latency"`
	Streams    map[string]StreamSummary `json:"streams"`
	Closes     []Close                  `json:"closes"`
	// FirstAppend is the earliest writtenAt seen and LastReceive the latest receive time, over
	// all clients and streams (zero if none): their difference is the drain time of a burst.
	FirstAppend time.Time `json:"firstAppend"`
	LastReceive time.Time `json:"lastReceive"`
	Problems    []string  `json:"problems,omitempty"` // first few, from any client
}

// OK reports a clean run: no invalid frame, gap, duplicate, reordering or abnormal end.
func (s Summary) OK() bool {
	return s.Invalid == 0 && s.Gaps == 0 && s.Missing == 0 && s.Duplicates == 0 && s.OutOfOrder == 0 && s.Abnormal == 0
}

// Summarize totals clients (after their Run returned) and their results (same order).
func Summarize(clients []*Client, results []Result, elapsed time.Duration) Summary {
	s := Summary{Clients: len(clients), Seconds: elapsed.Seconds(), Streams: map[string]StreamSummary{}}
	var all Histogram
	hists := map[string]*Histogram{}
	for _, name := range Streams {
		hists[name] = &Histogram{}
	}
	closes := map[Close]int{}
	var minWritten int64
	for i, c := range clients {
		s.Invalid += c.unknown.Invalid.Load()
		for _, name := range Streams {
			sc, st := c.counters[name], c.state[name]
			ss := s.Streams[name]
			frames := sc.Frames.Load()
			if i == 0 || frames < ss.MinPerClient {
				ss.MinPerClient = frames
			}
			if frames > ss.MaxPerClient {
				ss.MaxPerClient = frames
			}
			ss.Frames += frames
			ss.Bytes += sc.Bytes.Load()
			ss.Invalid += sc.Invalid.Load()
			ss.Verified += sc.Verified.Load()
			ss.Gaps += sc.Gaps.Load()
			ss.Missing += st.seq.missing() + st.missing
			ss.Duplicates += sc.Duplicates.Load()
			ss.OutOfOrder += sc.OutOfOrder.Load()
			if st.seq.started {
				if ss.FirstSeq == 0 || st.seq.base < ss.FirstSeq {
					ss.FirstSeq = st.seq.base
				}
				ss.LastSeq = max(ss.LastSeq, st.seq.max)
			}
			if st.noSeq > 0 {
				ss.ClientsWithoutSeq++
			}
			s.Streams[name] = ss
			hists[name].Merge(&st.latency)
			all.Merge(&st.latency)
			if st.minWrittenAt != 0 && (minWritten == 0 || st.minWrittenAt < minWritten) {
				minWritten = st.minWrittenAt
			}
			if st.lastReceive.After(s.LastReceive) {
				s.LastReceive = st.lastReceive
			}
		}
		c.mu.Lock()
		for _, e := range c.errs {
			if len(s.Problems) < 2*maxErrs {
				s.Problems = append(s.Problems, e)
			}
		}
		c.mu.Unlock()
		if i < len(results) {
			r := results[i]
			reason := r.CloseReason
			if r.End != EndClosed && r.Err != nil {
				reason = r.Err.Error()
			}
			closes[Close{End: r.End, Code: r.CloseCode, Reason: reason}]++
			if r.Abnormal() {
				s.Abnormal++
			}
		}
	}
	if minWritten != 0 {
		s.FirstAppend = time.UnixMicro(minWritten)
	}
	for name, ss := range s.Streams {
		ss.Latency = latencyOf(hists[name])
		s.Streams[name] = ss
		s.Frames += ss.Frames
		s.Bytes += ss.Bytes
		s.Invalid += ss.Invalid
		s.Verified += ss.Verified
		s.Gaps += ss.Gaps
		s.Missing += ss.Missing
		s.Duplicates += ss.Duplicates
		s.OutOfOrder += ss.OutOfOrder
	}
	s.Latency = latencyOf(&all)
	for cl, n := range closes {
		cl.Count = n
		s.Closes = append(s.Closes, cl)
	}
	sort.Slice(s.Closes, func(i, j int) bool { return s.Closes[i].Count > s.Closes[j].Count })
	return s
}

func latencyOf(h *Histogram) Latency {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return Latency{Count: h.Count(), P50ms: ms(h.Quantile(0.5)), P99ms: ms(h.Quantile(0.99)),
		MaxMs: ms(h.Max()), MeanMs: ms(h.Mean())}
}

// WriteText prints the summary for people, one fact a line.
func (s Summary) WriteText(w io.Writer) {
	fmt.Fprintf(w, "clients %d, %.1f s: frames %d, bytes %d, invalid %d (signatures verified %d)\n",
		s.Clients, s.Seconds, s.Frames, s.Bytes, s.Invalid, s.Verified)
	fmt.Fprintf(w, "gaps %d (missing %d), duplicates %d, out of order %d, abnormal ends %d\n",
		s.Gaps, s.Missing, s.Duplicates, s.OutOfOrder, s.Abnormal)
	for _, name := range Streams {
		ss := s.Streams[name]
		if ss.Frames == 0 && ss.Invalid == 0 {
			continue
		}
		fmt.Fprintf(w, "  %-10s frames %d (per client %d..%d), bytes %d, invalid %d, gaps %d, missing %d, dup %d, ooo %d",
			name, ss.Frames, ss.MinPerClient, ss.MaxPerClient, ss.Bytes, ss.Invalid, ss.Gaps, ss.Missing, ss.Duplicates, ss.OutOfOrder)
		if ss.ClientsWithoutSeq > 0 {
			fmt.Fprintf(w, " (%d clients saw frames without seq: order checked by cursors)", ss.ClientsWithoutSeq)
		}
		fmt.Fprintln(w)
	}
	if s.Latency.Count > 0 {
		fmt.Fprintf(w, "latency append->receive (%d samples): p50 %.3f ms, p99 %.3f ms, max %.3f ms, mean %.3f ms\n",
			s.Latency.Count, s.Latency.P50ms, s.Latency.P99ms, s.Latency.MaxMs, s.Latency.MeanMs)
	} else {
		fmt.Fprintln(w, "latency: no frame carried writtenAt")
	}
	for _, c := range s.Closes {
		fmt.Fprintf(w, "end %s: %d client(s), close code %d, reason %q\n", c.End, c.Count, c.Code, c.Reason)
	}
	for _, p := range s.Problems {
		fmt.Fprintf(w, "problem: %s\n", strings.TrimSpace(p))
	}
}
