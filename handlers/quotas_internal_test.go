package handlers

import "testing"

// A rate limit counts an IPv4 client by its address and an IPv6 client by its /64, so one
// machine cannot dodge it by rotating through the addresses of its own network.
func TestClientKey(t *testing.T) {
	for _, c := range []struct{ ip, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"not an address", "not an address"},
	} {
		if got := clientKey(c.ip); got != c.want {
			t.Errorf("clientKey(%q) = %q, want %q", c.ip, got, c.want)
		}
	}
}
