package configgen

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/duckbench/duckbench/rediscfg"
	"github.com/duckbench/duckbench/spec"
)

// redisLab are the redis.conf directives the lab owns, and why.
var redisLab = map[string]string{
	"port":        "the lab picks the port",
	"bind":        "the lab listens on loopback",
	"replicaof":   "the lab wires replication from the spec",
	"slaveof":     "the lab wires replication from the spec",
	"dir":         "the lab keeps data in the run dir",
	"pidfile":     "the lab tracks the process itself",
	"logfile":     "the lab reads the log on stdout",
	"daemonize":   "the lab runs redis-server in the foreground",
	"supervised":  "the lab runs redis-server in the foreground",
	"unixsocket":  "the lab connects over TCP",
	"requirepass": "the password belongs to the lab: redis.password_env",
	"masterauth":  "the password belongs to the lab: redis.password_env",
	"masteruser":  "the password belongs to the lab: redis.password_env",
	"user":        "ACL users carry passwords; the lab's password is redis.password_env",
	"include":     "included files are read in place",
}

// secretDirective are the directives whose values are secrets.
var secretDirective = map[string]bool{"requirepass": true, "masterauth": true, "masteruser": true, "user": true}

// renderRedisFile renders node n from its config_file: the file as written,
// the lab's directives commented out, then the lab's own block (and the
// settings the spec names, which come later and so win).
func renderRedisFile(s *spec.Spec, t Target, n spec.Node, header []string) ([]byte, []Rewrite, error) {
	name := RedisFile(n.Name)
	c, err := rediscfg.Load(n.ConfigFile, "")
	if err != nil {
		return nil, nil, fmt.Errorf("%s.config_file: %w", n.Path, err)
	}
	var rw []Rewrite
	for _, l := range c.Lines {
		d := l.Directive()
		why, ok := redisLab[d]
		if !ok {
			continue
		}
		if d == "include" {
			continue // already a comment
		}
		what := strings.Join(l.Args, " ")
		if secretDirective[d] {
			what = d + " (value not shown)" // never copied out of the user's file
		}
		rw = append(rw, Rewrite{File: name, At: l.Pos(), What: "dropped " + what, Why: why})
		l.Comment("duckbench: " + why)
		if secretDirective[d] {
			l.Raw = "# duckbench: " + why + ": " + d + " (value not copied)"
		}
	}
	for _, l := range c.Lines {
		if strings.HasPrefix(l.Raw, "# included below") {
			rw = append(rw, Rewrite{File: name, At: l.Pos(), What: "include read in place", Why: redisLab["include"]})
		}
	}
	for _, fs := range s.Redis.FileSettings {
		words := append(slices.Clone(fs.Directive), fs.Value...)
		if l := c.Last(fs.Directive[0]); l != nil {
			rw = append(rw, Rewrite{File: name, At: l.Pos(), What: strings.Join(l.Args, " ") + " → " + rediscfg.Join(words), Why: "set by the run's settings"})
			l.Set(words)
			continue
		}
		c.Append(rediscfg.Added, words)
		rw = append(rw, Rewrite{File: name, What: rediscfg.Join(words), Why: "set by the run's settings"})
	}
	rc, err := buildRedis(s, t, n)
	if err != nil {
		return nil, nil, err
	}
	var b bytes.Buffer
	for _, h := range header {
		b.WriteString("# " + h + "\n")
	}
	fmt.Fprintf(&b, "# ---- %s\n", n.ConfigFile)
	b.Write(c.Write())
	b.WriteString("\n# ---- duckbench: the lab's own lines, then the settings the spec names (later lines win)\n")
	for _, kv := range redisFileLab(rc) {
		b.WriteString(rediscfg.Join(kv) + "\n")
		why := redisLab[kv[0]]
		if why == "" {
			why = "set by the spec (" + n.Path + ")"
		}
		rw = append(rw, Rewrite{File: name, What: rediscfg.Join(kv), Why: why})
	}
	return b.Bytes(), rw, nil
}

// redisFileLab is the block appended to a user's redis.conf: where the node
// listens and keeps data, replication, then the spec's own settings.
func redisFileLab(rc *redisConfig) [][]string {
	out := [][]string{
		{"bind", rc.Bind}, {"port", strconv.Itoa(rc.Port)}, {"dir", rc.Dir},
		{"daemonize", "no"}, {"supervised", "no"}, {"logfile", ""}, {"pidfile", ""},
	}
	if rc.ReplicaOf != "" {
		out = append(out, append([]string{"replicaof"}, strings.Fields(rc.ReplicaOf)...))
	}
	if rc.Maxmemory != nil {
		out = append(out, []string{"maxmemory", rc.Maxmemory.String()})
	}
	if rc.MaxmemoryPolicy != "" {
		out = append(out, []string{"maxmemory-policy", rc.MaxmemoryPolicy})
	}
	if rc.Appendonly != nil {
		out = append(out, []string{"appendonly", yesNo(*rc.Appendonly)})
	}
	if rc.Save != nil {
		out = append(out, append([]string{"save"}, saveWords(*rc.Save)...))
	}
	if rc.ReplBacklogSize != nil {
		out = append(out, []string{"repl-backlog-size", rc.ReplBacklogSize.String()})
	}
	if rc.ReplDisklessSync != nil {
		out = append(out, []string{"repl-diskless-sync", yesNo(*rc.ReplDisklessSync)})
	}
	for _, l := range rc.Extra {
		if w, err := rediscfg.Split(l); err == nil && len(w) > 0 {
			out = append(out, w)
		}
	}
	return out
}

func saveWords(s string) []string {
	if f := strings.Fields(s); len(f) > 0 {
		return f
	}
	return []string{""}
}
