package parent

import (
	"log/slog"
	"net"
	"time"

	"github.com/shardeum/distributor/config"
)

// Options tunes Run. The zero value is useful: every field has a default.
type Options struct {
	// Grace bounds a graceful stop: from ctx being cancelled until every child has
	// closed its clients (1001) and exited. Children still alive then are killed.
	// Default 5 s.
	Grace time.Duration
	// Logger receives every log line of the parent; nil means slog.Default().
	Logger *slog.Logger
	// ConfigLoader re-reads the configuration on SIGUSR1 (file, env, flags, as at
	// start). nil: SIGUSR1 only re-checks subscriber expiry against the current config.
	ConfigLoader func() (*config.Config, error)
	// Ready, if set, is called once with the bound address when the listener is up
	// (useful with DISTRIBUTOR_PORT 0). The parent also logs `listening addr=...`.
	Ready func(addr net.Addr)

	// ChildExecutable and ChildArgs start a child: default os.Executable() and
	// ["child"] (the hidden `distributor child` command).
	ChildExecutable string
	ChildArgs       []string
	// SweepInterval is how often subscribers' expiry is checked when
	// limitToSubscribersOnly is true. Default (and maximum) 30 s.
	SweepInterval time.Duration
	// Now is the clock used for subscriber expiry and handshake timestamps;
	// nil means time.Now.
	Now func() time.Time
}

const (
	defaultGrace = 5 * time.Second
	maxSweep     = 30 * time.Second
	// maxHeaderBytes caps the request line plus headers of every request; beyond it
	// net/http answers 431 and closes the connection.
	maxHeaderBytes = 64 << 10
	// maxDataBytes caps the WebSocket `data` parameter (a real handshake is < 1 KiB);
	// beyond it the upgrade is refused with 401.
	maxDataBytes = 16 << 10
	// readHeaderTimeout closes a connection that does not finish its request headers.
	readHeaderTimeout = 10 * time.Second
)

func (o Options) withDefaults() Options {
	if o.Grace <= 0 {
		o.Grace = defaultGrace
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.SweepInterval <= 0 || o.SweepInterval > maxSweep {
		o.SweepInterval = maxSweep
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
