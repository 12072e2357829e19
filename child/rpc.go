package child

import (
	"net/rpc"
	"time"

	"github.com/hashicorp/go-plugin"
)

// Control is the parent -> child contract: served by the child, called by the parent through
// go-plugin's net/rpc. Start is called once, first; the Events it is given are served back by the
// parent through go-plugin's MuxBroker (the child -> parent contract).
type Control interface {
	Start(config []byte, events Events) error
	CloseClient(clientID string, code int, reason string) error
	Reload(config []byte) error
	Stats() (Stats, error)
	Shutdown(grace time.Duration) error
	Pace(p Pace) error
}

// handshake keeps a child from being started by hand and a stale binary from talking to a new parent.
var handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "DISTRIBUTOR_CHILD",
	MagicCookieValue: "7f3c2a91-firehose-child",
}

const pluginName = "control"

// controlPlugin is the go-plugin glue: impl is set in the child and nil in the parent.
type controlPlugin struct{ impl Control }

func (p *controlPlugin) Server(b *plugin.MuxBroker) (any, error) {
	return &controlServer{impl: p.impl, broker: b}, nil
}

func (p *controlPlugin) Client(b *plugin.MuxBroker, c *rpc.Client) (any, error) {
	return &controlClient{client: c, broker: b}, nil
}

// The Wire* types are the net/rpc arguments of Control and Events (net/rpc needs them exported).
type WireStart struct {
	Config   []byte
	EventsID uint32
}

type WireClose struct {
	ClientID string
	Code     int
	Reason   string
}

// controlClient is the parent's side of Control.
type controlClient struct {
	client *rpc.Client
	broker *plugin.MuxBroker
}

func (c *controlClient) Start(config []byte, events Events) error {
	id := c.broker.NextId()
	go c.broker.AcceptAndServe(id, &eventsServer{impl: events})
	return c.client.Call("Plugin.Start", WireStart{Config: config, EventsID: id}, new(struct{}))
}

func (c *controlClient) CloseClient(clientID string, code int, reason string) error {
	return c.client.Call("Plugin.CloseClient", WireClose{clientID, code, reason}, new(struct{}))
}

func (c *controlClient) Reload(config []byte) error {
	return c.client.Call("Plugin.Reload", config, new(struct{}))
}

func (c *controlClient) Stats() (Stats, error) {
	var s Stats
	err := c.client.Call("Plugin.Stats", struct{}{}, &s)
	return s, err
}

func (c *controlClient) Pace(p Pace) error {
	return c.client.Call("Plugin.Pace", p, new(struct{}))
}

func (c *controlClient) Shutdown(grace time.Duration) error {
	return c.client.Call("Plugin.Shutdown", grace, new(struct{}))
}

// controlServer is the child's side of Control: it adapts net/rpc calls to impl.
type controlServer struct {
	impl   Control
	broker *plugin.MuxBroker
}

func (s *controlServer) Start(a WireStart, _ *struct{}) error {
	conn, err := s.broker.Dial(a.EventsID)
	if err != nil {
		return err
	}
	return s.impl.Start(a.Config, &eventsClient{client: rpc.NewClient(conn)})
}

func (s *controlServer) CloseClient(a WireClose, _ *struct{}) error {
	return s.impl.CloseClient(a.ClientID, a.Code, a.Reason)
}

func (s *controlServer) Reload(config []byte, _ *struct{}) error { return s.impl.Reload(config) }

func (s *controlServer) Stats(_ struct{}, reply *Stats) error {
	st, err := s.impl.Stats()
	*reply = st
	return err
}

func (s *controlServer) Pace(p Pace, _ *struct{}) error { return s.impl.Pace(p) }

func (s *controlServer) Shutdown(grace time.Duration, _ *struct{}) error {
	return s.impl.Shutdown(grace)
}

type WireConnected struct {
	Pid    int
	Client ClientInfo
}

type WireClosed struct {
	Pid      int
	ClientID string
	Code     int
	Reason   string
}

type WireProblem struct {
	Pid    int
	Stream string
	Msg    string
}

// eventsClient is the child's side of Events.
type eventsClient struct{ client *rpc.Client }

func (e *eventsClient) ClientConnected(pid int, c ClientInfo) {
	_ = e.client.Call("Plugin.ClientConnected", WireConnected{pid, c}, new(struct{}))
}

func (e *eventsClient) ClientClosed(pid int, clientID string, code int, reason string) {
	_ = e.client.Call("Plugin.ClientClosed", WireClosed{pid, clientID, code, reason}, new(struct{}))
}

func (e *eventsClient) ReaderProblem(pid int, stream, msg string) {
	_ = e.client.Call("Plugin.ReaderProblem", WireProblem{pid, stream, msg}, new(struct{}))
}

func (e *eventsClient) Close() error { return e.client.Close() }

// eventsServer is the parent's side of Events. It is served before the child's pid is known to the
// caller, so the pid is the one the child reports (it is the child's own os.Getpid()).
type eventsServer struct{ impl Events }

func (s *eventsServer) ClientConnected(a WireConnected, _ *struct{}) error {
	if s.impl != nil {
		s.impl.ClientConnected(a.Pid, a.Client)
	}
	return nil
}

func (s *eventsServer) ClientClosed(a WireClosed, _ *struct{}) error {
	if s.impl != nil {
		s.impl.ClientClosed(a.Pid, a.ClientID, a.Code, a.Reason)
	}
	return nil
}

func (s *eventsServer) ReaderProblem(a WireProblem, _ *struct{}) error {
	if s.impl != nil {
		s.impl.ReaderProblem(a.Pid, a.Stream, a.Msg)
	}
	return nil
}
