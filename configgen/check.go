package configgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/duckbench/duckbench/internal/syncbuf"
	"github.com/duckbench/duckbench/rediscfg"
)

// ErrMissingBinary is wrapped by the checks when haproxy or redis-server is
// not on PATH; the message carries an install hint.
var ErrMissingBinary = errors.New("missing binary")

// lookBinary finds name on PATH or returns an ErrMissingBinary with a hint.
func lookBinary(name, pkg string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("find %s: %w (is %s installed? apt-get install %s)", name, ErrMissingBinary, name, pkg)
	}
	return p, nil
}

// CheckHAProxy runs `haproxy -c -f` on cfg and returns nil when HAProxy
// accepts it, or an error holding HAProxy's output. The check binds nothing,
// so a local config's stats socket directory need not exist. Environment
// variables the config expands (a stats page password) need not be set.
func CheckHAProxy(ctx context.Context, cfg []byte) error {
	bin, err := lookBinary("haproxy", "haproxy")
	if err != nil {
		return fmt.Errorf("check haproxy.cfg: %w", err)
	}
	dir, err := os.MkdirTemp("", "duckbench-haproxy-check-")
	if err != nil {
		return fmt.Errorf("check haproxy.cfg: %w", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, HAProxyFile)
	if err := os.WriteFile(path, cfg, 0o600); err != nil {
		return fmt.Errorf("check haproxy.cfg: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-c", "-f", path).CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(strings.ReplaceAll(string(out), path, HAProxyFile))
		return fmt.Errorf("check haproxy.cfg: haproxy -c: %w\n%s", err, msg)
	}
	return nil
}

// checkedRedisSettings are read back with CONFIG GET after start-up.
var checkedRedisSettings = []string{"maxmemory", "maxmemory-policy", "appendonly", "repl-backlog-size", "repl-diskless-sync"}

// CheckRedis starts redis-server briefly with conf (for node, used in
// messages), overriding only where it listens and keeps data: no TCP port, a
// unix socket and dir in a temporary directory, and "replicaof no one" so a
// replica's conf starts without (and without syncing from) its master. It
// then compares CONFIG GET of maxmemory, maxmemory-policy, appendonly,
// repl-backlog-size and repl-diskless-sync with what conf sets, shuts the
// server down and removes the temporary directory.
func CheckRedis(ctx context.Context, node string, conf []byte) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("check redis %q: %w", node, err)
		}
	}()
	bin, err := lookBinary("redis-server", "redis-server")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	// A short path: unix socket paths are limited to ~107 bytes.
	dir, err := os.MkdirTemp("", "dbrc-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	confPath := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(confPath, withDir(conf, dir), 0o600); err != nil {
		return err
	}
	sock := filepath.Join(dir, "redis.sock")
	cmd := exec.Command(bin, confPath,
		"--port", "0", "--unixsocket", sock, "--unixsocketperm", "700",
		"--dir", dir, "--daemonize", "no", "--replicaof", "no", "one",
		"--logfile", "", "--pidfile", "")
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-exited
		}
	}()

	rdb := redis.NewClient(&redis.Options{Network: "unix", Addr: sock, MaxRetries: -1, DialTimeout: time.Second})
	defer rdb.Close()
	for {
		if _, err := os.Stat(sock); err == nil {
			if err := rdb.Ping(ctx).Err(); err == nil {
				break
			}
		}
		select {
		case werr := <-exited:
			stopped = true
			return fmt.Errorf("redis-server refused the config: %v\n%s", werr, tail(out.String(), 20))
		case <-ctx.Done():
			return fmt.Errorf("redis-server did not start: %w\n%s", ctx.Err(), tail(out.String(), 20))
		case <-time.After(20 * time.Millisecond):
		}
	}

	want := parseRedisConf(conf)
	var mismatches []string
	for _, key := range checkedRedisSettings {
		w, ok := want[key]
		if !ok {
			continue
		}
		got, err := rdb.ConfigGet(ctx, key).Result()
		if err != nil {
			return fmt.Errorf("config get %s: %w", key, err)
		}
		if g := got[key]; !sameRedisValue(key, w, g) {
			mismatches = append(mismatches, fmt.Sprintf("%s: conf says %q, server has %q", key, w, g))
		}
	}

	// Stop it: SHUTDOWN NOSAVE closes the connection, so its error is expected.
	_ = rdb.ShutdownNoSave(ctx).Err()
	select {
	case <-exited:
		stopped = true
	case <-time.After(5 * time.Second):
	}
	if len(mismatches) > 0 {
		return fmt.Errorf("settings differ after start-up:\n%s", strings.Join(mismatches, "\n"))
	}
	return nil
}

// withDir replaces every "dir" directive of conf with dir: redis-server
// changes into the directory while it reads the file, so a run dir or a
// container path that does not exist here would fail the check.
func withDir(conf []byte, dir string) []byte {
	var b bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(conf))
	for sc.Scan() {
		l := sc.Text()
		if k, _, _ := strings.Cut(strings.TrimSpace(l), " "); strings.EqualFold(k, "dir") {
			l = "dir " + quoteRedis(dir)
		}
		b.WriteString(l + "\n")
	}
	return b.Bytes()
}

// parseRedisConf returns the last value of each directive in conf (a later
// line overrides an earlier one, as in redis-server), read as redis-server
// splits its lines.
func parseRedisConf(conf []byte) map[string]string {
	out := map[string]string{}
	c, err := rediscfg.Parse("redis.conf", conf)
	if err != nil {
		return out // redis-server reports it
	}
	for _, l := range c.Lines {
		if l.Args != nil {
			out[l.Directive()] = strings.Join(l.Args[1:], " ")
		}
	}
	return out
}

// sameRedisValue compares a conf value with CONFIG GET's answer: sizes in
// bytes, yes/no and words case-insensitively.
func sameRedisValue(key, conf, got string) bool {
	switch key {
	case "maxmemory", "repl-backlog-size":
		c, err1 := redisBytes(conf)
		g, err2 := redisBytes(got)
		return err1 == nil && err2 == nil && c == g
	}
	return strings.EqualFold(conf, got)
}

// redisBytes reads a redis.conf memory value: 100, 1k, 1kb, 5mb, 1gb.
func redisBytes(s string) (int64, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	units := []struct {
		suf  string
		mult int64
	}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"g", 1000 * 1000 * 1000}, {"m", 1000 * 1000}, {"k", 1000}, {"b", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suf) {
			s, mult = strings.TrimSuffix(s, u.suf), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, err
	}
	return n * mult, nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
