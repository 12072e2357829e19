package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shardeum/distributor/child"
	"github.com/shardeum/distributor/config"
	"github.com/shardeum/distributor/parent"
	"github.com/shardeum/distributor/redisstream"
)

// statusCommand prints a running distributor's process table (GET /status), like
// AnyLog's `get processes`.
func statusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "show a running distributor's processes, clients and readers (or an ingress's lease and streams)",
		Description: "Fetches http://ADDR/status (served to the same host only) and prints the parent, each child\n" +
			"with its clients (key, remote, connected since, frames sent, queue depth) and its readers'\n" +
			"positions (on an edge, FIREHOSE_SOURCE=redis: each reader's Redis stream, last entry ID and\n" +
			"lag). ADDR defaults to DISTRIBUTOR_IP:DISTRIBUTOR_PORT from the configuration\n" +
			"(a wildcard IP is asked on loopback).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Usage: "HOST:PORT of the distributor (default: from the configuration)"},
			&cli.BoolFlag{Name: "json", Usage: "print the raw JSON"},
			&cli.DurationFlag{Name: "timeout", Value: 5 * time.Second, Usage: "give up after this long"},
		},
		Action: func(c *cli.Context) error {
			if err := requireNoArgs(c); err != nil {
				return err
			}
			addr := c.String("addr")
			if addr == "" {
				cfg, err := loadConfig(c)
				if err != nil {
					return err
				}
				addr = dialAddr(cfg.DistributorIP, cfg.DistributorPort)
			}
			client := &http.Client{Timeout: c.Duration("timeout")}
			resp, err := client.Get("http://" + addr + "/status")
			if err != nil {
				return fmt.Errorf("status: %w", err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
			if err != nil {
				return fmt.Errorf("status: reading the answer of %s: %w", addr, err)
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("status: %s answered %s: %s", addr, resp.Status, strings.TrimSpace(string(body)))
			}
			if c.Bool("json") {
				_, err := c.App.Writer.Write(body)
				return err
			}
			var kind struct{ Kind string }
			if json.Unmarshal(body, &kind) == nil && kind.Kind == "ingress" {
				var st redisstream.IngressStatus
				if err := json.Unmarshal(body, &st); err != nil {
					return fmt.Errorf("status: %s did not answer an ingress status: %w", addr, err)
				}
				return printIngressStatus(c.App.Writer, st)
			}
			var st parent.Status
			if err := json.Unmarshal(body, &st); err != nil {
				return fmt.Errorf("status: %s did not answer a status table: %w", addr, err)
			}
			return printStatus(c.App.Writer, st, time.Now())
		},
	}
}

// dialAddr is where to reach a distributor bound to ip:port from this host.
func dialAddr(ip string, port int) string {
	switch ip {
	case "", "0.0.0.0":
		ip = "127.0.0.1"
	case "::", "[::]":
		ip = "::1"
	}
	return net.JoinHostPort(strings.Trim(ip, "[]"), strconv.Itoa(port))
}

// printStatus writes the process table: a summary line, the processes, the clients
// and the readers.
func printStatus(w io.Writer, st parent.Status, now time.Time) error {
	up := time.Duration(st.UptimeSeconds * float64(time.Second)).Round(time.Second)
	db := st.DB
	if db != "ok" {
		db = "UNAVAILABLE (" + db + ")"
	}
	if st.RESTForward != "" {
		db += ", REST forwarded to " + st.RESTForward
	}
	source := cmp.Or(st.Source, config.FirehoseFiles)
	fmt.Fprintf(w, "distributor  listening %s  up %s  source %s  children %d  clients %d  db %s\n\n",
		st.Listen, up, source, len(st.Children), st.Clients, db)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROCESS\tPID\tSTATE\tCLIENTS\tSTARTED\tMOVED TO LOG\tREJOINED\tLAPPED\tSTALLED\tNOTE")
	fmt.Fprintf(tw, "parent\t%d\trunning\t%d\t%s\t-\t-\t-\t-\t-\n", st.Pid, st.Clients, stamp(st.Started))
	for _, ch := range st.Children {
		note := ch.Error
		if note == "" {
			note = ch.LastProblem
		}
		fmt.Fprintf(tw, "child\t%d\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t%s\n", ch.Pid, ch.State, len(ch.Clients), stamp(ch.Started),
			ch.MovedToLog, ch.Rejoined, ch.Lapped, ch.Stalled, dash(note))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHILD\tCLIENT\tKEY\tREMOTE\tCONNECTED SINCE\tFRAMES SENT\tQUEUE\tSTATE")
	n := 0
	for _, ch := range st.Children {
		for _, cl := range ch.Clients {
			n++
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s (%s ago)\t%d\t%d\t%s\n", ch.Pid, cl.ID, cl.Key, cl.Remote,
				stamp(cl.ConnectedSince), now.Sub(cl.ConnectedSince).Round(time.Second), cl.FramesSent, cl.QueueDepth, clientState(cl))
		}
	}
	if n == 0 {
		fmt.Fprintln(tw, "-\t-\t(no clients)\t\t\t\t\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	// An edge's readers read Redis streams: the stream key and the last entry ID say where.
	fmt.Fprintln(tw, "CHILD\tSTREAM\tSOURCE\tKEY\tLAST ID\tPOSITION\tENTRIES\tLAG\tERROR")
	n = 0
	for _, ch := range st.Children {
		for _, rd := range ch.Readers {
			n++
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", ch.Pid, rd.Stream, cmp.Or(rd.Source, config.FirehoseFiles), dash(rd.Key),
				dash(rd.LastID), dash(rd.Position), rd.Entries, readerLag(rd), dash(rd.Error))
		}
	}
	if n == 0 {
		fmt.Fprintln(tw, "-\t(no readers: readers run in children)\t\t\t\t\t\t\t")
	}
	return tw.Flush()
}

// readerLag is the age of the newest line or entry a reader read, "-" before the first.
func readerLag(rd parent.ReaderStatus) string {
	if rd.LagSeconds == nil {
		return "-"
	}
	return time.Duration(*rd.LagSeconds * float64(time.Second)).Round(100 * time.Millisecond).String()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clientState is a client's state as the table shows it: a lagging client with its lag.
func clientState(cl parent.ClientStatus) string {
	switch {
	case cl.State == "":
		return child.StateLive
	case cl.State != child.StateLagging:
		return cl.State
	case cl.LagLines < 0:
		return "lagging (resuming)"
	default:
		return fmt.Sprintf("lagging %d lines, %s", cl.LagLines, (time.Duration(cl.LagSeconds * float64(time.Second))).Round(100*time.Millisecond))
	}
}

// printIngressStatus writes an ingress's lease, Redis state and publish positions.
func printIngressStatus(w io.Writer, st redisstream.IngressStatus) error {
	redisState := "reachable"
	if !st.Redis.Reachable {
		redisState = "UNREACHABLE " + dash(st.Redis.Error)
	}
	lease := "not held (standing by)"
	if st.Lease.Held {
		lease = "held since " + st.Lease.Since
	}
	fmt.Fprintf(w, "ingress  role %s  lease %s %s  redis %s\ndata logs %s\n\n", st.Role, st.Lease.Key, lease, redisState, st.DataLogDir)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STREAM\tKEY\tLAST ID\tCURSOR\tPUBLISHED\tPENDING\tLAG\tREFILLED")
	for _, s := range st.Streams {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%v\n", s.Stream, s.Key, dash(s.LastID), dash(s.Cursor),
			s.Published, s.Pending, time.Duration(s.LagMS)*time.Millisecond, s.Refilled)
	}
	return tw.Flush()
}
