package configgen

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/duckbench/duckbench/spec"
)

// redisConfig is one redis.conf. Pointer and empty fields are left out, so
// redis-server's own default applies.
type redisConfig struct {
	Comments         []string // why a setting is what it is
	Bind             string
	ProtectedMode    bool
	Port             int
	Dir              string
	Maxmemory        *spec.ByteSize
	MaxmemoryPolicy  string
	Appendonly       *bool
	Save             *string
	ReplBacklogSize  *spec.ByteSize
	ReplDisklessSync *bool
	ReplicaOf        string // "host port", or "" on the master
	Extra            []string
}

// merged returns the node's settings over the spec's redis defaults.
func merged(d, n spec.RedisSettings) spec.RedisSettings {
	m := d
	if n.Maxmemory != nil {
		m.Maxmemory = n.Maxmemory
	}
	if n.MaxmemoryPolicy != "" {
		m.MaxmemoryPolicy = n.MaxmemoryPolicy
	}
	if n.Appendonly != nil {
		m.Appendonly = n.Appendonly
	}
	if n.Save != nil {
		m.Save = n.Save
	}
	if n.ReplBacklogSize != nil {
		m.ReplBacklogSize = n.ReplBacklogSize
	}
	if n.ReplDisklessSync != nil {
		m.ReplDisklessSync = n.ReplDisklessSync
	}
	m.Extra = append(append([]string(nil), d.Extra...), n.Extra...)
	return m
}

func buildRedis(s *spec.Spec, t Target, n spec.Node) (*redisConfig, error) {
	name := n.Name
	if name == "" || strings.ContainsAny(name, "/\\ \t\r\n") || name == "." || name == ".." {
		return nil, fmt.Errorf("%s.name: must be a plain name (got %q)", n.Path, name)
	}
	st := merged(s.Redis.Defaults, n.RedisSettings)
	if err := checkRaw(n.Path+".extra", st.Extra); err != nil {
		return nil, err
	}
	if st.Save != nil && strings.ContainsAny(*st.Save, "\"'\\\r\n") {
		return nil, fmt.Errorf("%s.save: must be pairs of numbers like \"3600 1 300 100\" (got %q)", n.Path, *st.Save)
	}
	if p := st.MaxmemoryPolicy; p != "" && strings.ContainsAny(p, " \t\r\n\"'") {
		return nil, fmt.Errorf("%s.maxmemory_policy: must be one word (got %q)", n.Path, p)
	}
	c := &redisConfig{
		Port:             int(n.Port),
		Dir:              t.RedisDir(name),
		Maxmemory:        st.Maxmemory,
		MaxmemoryPolicy:  st.MaxmemoryPolicy,
		Appendonly:       st.Appendonly,
		Save:             st.Save,
		ReplBacklogSize:  st.ReplBacklogSize,
		ReplDisklessSync: st.ReplDisklessSync,
		Extra:            st.Extra,
	}
	if t.compose() {
		c.Bind = "0.0.0.0"
		if s.Redis.PasswordEnv != "" {
			c.ProtectedMode = true
			c.Comments = []string{
				"Listens on the project network for the apps and replicas; compose",
				"publishes the port on 127.0.0.1 only. The password comes on stdin",
				"(requirepass), so protected mode can stay on.",
			}
		} else {
			c.Comments = []string{
				"Listens on the project network for the apps and replicas; compose",
				"publishes the port on 127.0.0.1 only. Protected mode is off because",
				"with no password Redis 7 refuses every non-loopback client, whatever",
				"the bind; the network is the project's own, reachable from the host",
				"only through the published loopback port. Set redis.password_env to",
				"keep protected mode on.",
			}
		}
	} else {
		c.Bind = "127.0.0.1"
		c.ProtectedMode = true
	}
	if !n.Master() {
		m := s.Redis.Master
		host := "127.0.0.1"
		if t.compose() {
			host = m.Name // the compose service name
		}
		c.ReplicaOf = fmt.Sprintf("%s %d", host, m.Port)
	}
	return c, nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (c *redisConfig) render(header []string) []byte {
	var b bytes.Buffer
	for _, l := range header {
		b.WriteString("# " + l + "\n")
	}
	line := func(k, v string) { fmt.Fprintf(&b, "%-20s %s\n", k, v) }
	b.WriteString("\n")
	for _, l := range c.Comments {
		b.WriteString("# " + l + "\n")
	}
	line("bind", c.Bind)
	line("protected-mode", yesNo(c.ProtectedMode))
	line("port", strconv.Itoa(c.Port))
	line("dir", quoteRedis(c.Dir))
	line("daemonize", "no")
	if c.Maxmemory != nil {
		line("maxmemory", c.Maxmemory.String())
	}
	if c.MaxmemoryPolicy != "" {
		line("maxmemory-policy", c.MaxmemoryPolicy)
	}
	if c.Appendonly != nil {
		line("appendonly", yesNo(*c.Appendonly))
	}
	if c.Save != nil {
		if v := strings.Join(strings.Fields(*c.Save), " "); v == "" {
			line("save", `""`)
		} else {
			line("save", v)
		}
	}
	if c.ReplBacklogSize != nil {
		line("repl-backlog-size", c.ReplBacklogSize.String())
	}
	if c.ReplDisklessSync != nil {
		line("repl-diskless-sync", yesNo(*c.ReplDisklessSync))
	}
	if c.ReplicaOf == "" {
		// Replicas of a bench stack start together: do not hold the first
		// full sync 5 s (Redis' default) waiting for more of them to join.
		// A spec's extra lines come later and win.
		line("repl-diskless-sync-delay", "0")
	}
	if c.ReplicaOf != "" {
		b.WriteString("\n# replication\n")
		line("replicaof", c.ReplicaOf)
		line("replica-read-only", "yes")
	}
	if len(c.Extra) > 0 {
		b.WriteString("\n# extra lines from the spec\n")
		for _, l := range c.Extra {
			b.WriteString(strings.TrimSpace(l) + "\n")
		}
	}
	return b.Bytes()
}

// quoteRedis quotes s as one redis.conf argument when it needs quoting.
func quoteRedis(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"'\\") && isPrintable(s) {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, "\\x%02x", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func isPrintable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// RedisSecretConfig returns the password directives (requirepass and
// masterauth) for every node of s, or nil when s sets no redis.password_env
// or password is empty. They are never written to disk: the driver starts
//
//	redis-server <RunDir>/redis-<node>.conf -
//
// and writes these bytes to its stdin, then closes it. redis-server 7.0 reads
// the trailing "-" as "more configuration on stdin" (checked in the tests),
// so the password stays out of every file and out of the process list.
func RedisSecretConfig(s *spec.Spec, password string) []byte {
	if s == nil || s.Redis.PasswordEnv == "" || password == "" {
		return nil
	}
	q := quoteRedis(password)
	return []byte("requirepass " + q + "\nmasterauth " + q + "\n")
}
