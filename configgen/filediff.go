package configgen

import (
	"fmt"
	"strings"

	"github.com/duckbench/duckbench/hacfg"
	"github.com/duckbench/duckbench/rediscfg"
	"github.com/duckbench/duckbench/spec"
)

// DiffFiles lists, directive by directive, what differs between the config
// files of a and b (haproxy.config_file with its settings applied, and each
// Redis node's config_file): a spec without a file counts as an empty one.
func DiffFiles(a, b *spec.Spec) ([]string, error) {
	ca, err := haproxyFileOf(a)
	if err != nil {
		return nil, err
	}
	cb, err := haproxyFileOf(b)
	if err != nil {
		return nil, err
	}
	out := hacfg.Diff(ca, cb)
	an, bn := a.Redis.Nodes(), b.Redis.Nodes()
	for i := 0; i < len(an) && i < len(bn); i++ {
		la, err := redisLines(a, an[i])
		if err != nil {
			return nil, err
		}
		lb, err := redisLines(b, bn[i])
		if err != nil {
			return nil, err
		}
		out = append(out, hacfg.DiffLines("redis "+an[i].Name, la, lb)...)
	}
	return out, nil
}

func haproxyFileOf(s *spec.Spec) (*hacfg.Config, error) {
	if len(s.HAProxy.ConfigFile) == 0 {
		return &hacfg.Config{}, nil
	}
	c, err := s.HAProxy.LoadHAProxyFiles()
	if err != nil {
		return nil, fmt.Errorf("diff %q: %w", s.Name, err)
	}
	f := &haFile{s: s}
	if err := f.settings(c); err != nil {
		return nil, fmt.Errorf("diff %q: %w", s.Name, err)
	}
	return c, nil
}

// redisLines are node n's directives as read (settings applied).
func redisLines(s *spec.Spec, n spec.Node) ([]string, error) {
	if n.ConfigFile == "" {
		return nil, nil
	}
	c, err := rediscfg.Load(n.ConfigFile, "")
	if err != nil {
		return nil, fmt.Errorf("diff %q: %w", s.Name, err)
	}
	for _, fs := range s.Redis.FileSettings {
		c.Append(rediscfg.Added, append(append([]string{}, fs.Directive...), fs.Value...))
	}
	var out []string
	for _, l := range c.Lines {
		if l.Args != nil {
			out = append(out, strings.Join(l.Args, " "))
		}
	}
	return out, nil
}
