package http

import (
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// proxies are the hops whose X-Forwarded-For is believed (TRUSTED_PROXIES).
type proxies []netip.Prefix

// parseProxies reads TRUSTED_PROXIES' entries, each an IP or a CIDR range.
func parseProxies(entries []string) (proxies, error) {
	out := make(proxies, 0, len(entries))
	for _, e := range entries {
		if p, err := netip.ParsePrefix(e); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(e)
		if err != nil {
			return nil, err
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func (p proxies) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, prefix := range p {
		if prefix.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP is the address a request comes from. Each proxy appends the address it was
// reached from to X-Forwarded-For, so only the entries on the right were written by
// our proxies: the header is walked from the right past every trusted hop, and the
// first untrusted address is the client. Whatever a client wrote to the left of it is
// never believed. An entry that is no address ends the walk at the hop that wrote it.
func (s *server) clientIP(c *fiber.Ctx) string {
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok || !s.proxies.trusts(peer) {
		return peer.Unmap().String()
	}
	client := peer
	var entries []string
	c.Request().Header.VisitAll(func(key, value []byte) {
		if strings.EqualFold(string(key), fiber.HeaderXForwardedFor) {
			entries = append(entries, strings.Split(string(value), ",")...)
		}
	})
	for i := len(entries) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(entries[i]))
		if err != nil {
			break
		}
		client = hop
		if !s.proxies.trusts(hop) {
			break
		}
	}
	return client.Unmap().String()
}
