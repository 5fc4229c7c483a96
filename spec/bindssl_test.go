package spec

import "testing"

// TestBindSSL: the ssl keyword is found among a bind's options, never as
// another option's argument (HAProxy 2.6's bind keywords).
func TestBindSSL(t *testing.T) {
	tests := []struct {
		opts []string
		want int
	}{
		{[]string{"ssl", "crt", "x.pem"}, 0},
		{[]string{"name", "secure", "ssl", "crt", "x.pem", "alpn", "h2"}, 2},
		{[]string{"crt", "ssl", "ssl"}, 2}, // a certificate file named ssl
		{[]string{"name", "ssl"}, -1},
		{[]string{"alpn", "ssl", "crt", "x.pem"}, -1},
		{[]string{"v4v6", "transparent"}, -1},
		{nil, -1},
	}
	for _, tc := range tests {
		if got := BindSSL(tc.opts); got != tc.want {
			t.Errorf("BindSSL(%q) = %d; want %d", tc.opts, got, tc.want)
		}
	}
}
