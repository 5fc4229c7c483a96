package appimage

import (
	"strings"
	"testing"
)

func TestCheckRegistry(t *testing.T) {
	for _, ok := range []string{"10.0.0.1:5000", "registry.lab:443", "[::1]:5000", "localhost:1"} {
		if err := CheckRegistry(ok); err != nil {
			t.Errorf("CheckRegistry(%q) = %v; want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "10.0.0.1", ":5000", "http://10.0.0.1:5000", "10.0.0.1:5000/x", "host:port", "host:0", "host:70000", "a b:5000"} {
		err := CheckRegistry(bad)
		if err == nil || !strings.Contains(err.Error(), "want HOST:PORT") {
			t.Errorf("CheckRegistry(%q) = %v; want an error asking for HOST:PORT", bad, err)
		}
	}
}
