package parent

import (
	"net"

	"github.com/shardeum/distributor/config"
)

// publicConfig is what GET /config shows under "config", as the reference: the
// address, the public key and the subscriber list (never the secret key). A
// DISTRIBUTOR_PORT of 0 is shown as the port actually bound.
func (p *parent) publicConfig(cfg *config.Config) any {
	port := cfg.DistributorPort
	if ta, ok := p.addr.(*net.TCPAddr); ok && port == 0 {
		port = ta.Port
	}
	subs := make([]any, 0, len(cfg.Subscribers))
	for _, s := range cfg.Subscribers {
		subs = append(subs, map[string]any{
			"publicKey":           s.PublicKey,
			"expirationTimestamp": float64(s.ExpirationTimestamp),
			"subscriptionType":    s.SubscriptionType,
		})
	}
	return map[string]any{
		"DISTRIBUTOR_IP":         cfg.DistributorIP,
		"DISTRIBUTOR_PORT":       float64(port),
		"DISTRIBUTOR_PUBLIC_KEY": cfg.PublicKey,
		"limitToSubscribersOnly": cfg.LimitToSubscribersOnly,
		"subscribers":            subs,
	}
}
