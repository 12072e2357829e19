package config_test

import (
	"testing"

	"github.com/shardeum/distributor/config"
)

// REST_FORWARD_URL defaults to none, takes the usual layers, loses a trailing slash, and
// survives the JSON handed to children.
func TestRESTForwardURL(t *testing.T) {
	c := mustLoad(t, config.LoadOptions{}, nil)
	if c.RESTForwardURL != "" {
		t.Errorf("default REST_FORWARD_URL %q, want none", c.RESTForwardURL)
	}
	dir := t.TempDir()
	writeFile(t, dir, config.DefaultFile, `{"REST_FORWARD_URL": "http://file:6100"}`)
	c = mustLoad(t, config.LoadOptions{Dir: dir}, env{"REST_FORWARD_URL": "https://archive.example:8443/dist/"})
	if c.RESTForwardURL != "https://archive.example:8443/dist" {
		t.Errorf("REST_FORWARD_URL %q", c.RESTForwardURL)
	}
	if src := c.Source(config.KeyRESTForwardURL); src.Kind != config.FromEnv {
		t.Errorf("REST_FORWARD_URL from %v, want the environment", src)
	}
	c = mustLoad(t, config.LoadOptions{Dir: dir, Flags: []config.FlagValue{{Key: "REST_FORWARD_URL", Value: "http://flag:1"}}}, nil)
	if c.RESTForwardURL != "http://flag:1" {
		t.Errorf("flag REST_FORWARD_URL %q", c.RESTForwardURL)
	}
	back, err := config.FromJSON(c.JSON())
	if err != nil || back.RESTForwardURL != c.RESTForwardURL {
		t.Errorf("round trip: %v %q", err, back.RESTForwardURL)
	}
}

func TestRESTForwardURLErrors(t *testing.T) {
	for _, tc := range []struct {
		v, want string
	}{
		{"archive:6100", `config: REST_FORWARD_URL: "archive:6100" from environment must start with http:// or https:// (want the base URL of a distributor with the archive, e.g. http://archive-node:6100)`},
		{"redis://h:1", `config: REST_FORWARD_URL: "redis://h:1" from environment must start with http:// or https:// (want the base URL of a distributor with the archive, e.g. http://archive-node:6100)`},
		{"http://", `config: REST_FORWARD_URL: "http://" from environment names no host (want http://host:port)`},
		{"http://h:70000", `config: REST_FORWARD_URL: "http://h:70000" from environment has a bad port (1 to 65535)`},
		{"http://u:p@h:1", `config: REST_FORWARD_URL: "http://u:<redacted>@h:1" from environment must not hold credentials (requests are forwarded with their own signatures)`},
		{"http://h:1/?x=1", `config: REST_FORWARD_URL: "http://h:1/?x=1" from environment must not have a query or fragment (the request's own path and query are appended)`},
		{"http://h:1 x", `config: REST_FORWARD_URL: "http://h:1 x" from environment is not a URL`},
	} {
		_, err := load(t, config.LoadOptions{}, env{"REST_FORWARD_URL": tc.v})
		wantError(t, err, tc.want)
	}
}
