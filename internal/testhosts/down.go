package testhosts

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Down removes everything of the cluster's prefix, whoever started it:
// every process in its namespaces and cgroups (dockerd, containerd, the
// shims, the containers), the mounts below its directories, the cgroups,
// the namespaces and links, the directories. It then checks that nothing
// is left and says what is.
func (c *Cluster) Down(ctx context.Context) error {
	start := time.Now()
	nss := c.namespaces(ctx)
	if err := c.killAll(ctx, nss); err != nil {
		return err
	}
	var errs []error
	for _, dir := range []string{c.opts.RunDir, c.opts.Dir} {
		errs = append(errs, unmountBelow(dir))
	}
	for _, cg := range c.cgroups() {
		errs = append(errs, removeCgroup(cg))
	}
	for _, ns := range nss {
		if _, err := run(ctx, "ip", "netns", "del", ns); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := run(ctx, "ip", "link", "show", c.rootLink()); err == nil {
		if _, err := run(ctx, "ip", "link", "del", c.rootLink()); err != nil {
			errs = append(errs, err)
		}
	}
	for _, dir := range []string{c.opts.RunDir, c.opts.Dir} {
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", dir, err))
		}
		_ = os.Remove(filepath.Dir(dir)) // the default parent, when empty
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("testhosts: down: %w", err)
	}
	if left := c.Leftovers(ctx); len(left) > 0 {
		return fmt.Errorf("testhosts: down: still there: %s", strings.Join(left, "; "))
	}
	if len(nss) > 0 {
		c.logf("down in %.1fs", time.Since(start).Seconds())
	}
	return nil
}

// namespaces lists the network namespaces of the prefix: the switch and
// every host, whatever their number.
func (c *Cluster) namespaces(ctx context.Context) []string {
	out, _ := run(ctx, "ip", "netns", "list")
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(c.opts.Prefix) + `-(sw|h[0-9]+)$`)
	var nss []string
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && re.MatchString(f[0]) {
			nss = append(nss, f[0])
		}
	}
	return nss
}

// cgroups lists the prefix's cgroup directories in every v1 hierarchy
// (and the unified one).
func (c *Cluster) cgroups() []string {
	var out []string
	ms, _ := filepath.Glob("/sys/fs/cgroup/*/" + c.opts.Prefix + "-h*")
	for _, m := range ms {
		if st, err := os.Stat(m); err == nil && st.IsDir() {
			out = append(out, m)
		}
	}
	ms, _ = filepath.Glob("/sys/fs/cgroup/" + c.opts.Prefix + "-h*")
	for _, m := range ms {
		if st, err := os.Stat(m); err == nil && st.IsDir() {
			out = append(out, m)
		}
	}
	return out
}

// pids lists the processes that belong to the prefix: in one of its
// network namespaces, in one of its cgroups, or named by a pidfile.
func (c *Cluster) pids(ctx context.Context, nss []string) []int {
	seen := map[int]bool{}
	for _, ns := range nss {
		out, _ := run(ctx, "ip", "netns", "pids", ns)
		for _, f := range strings.Fields(out) {
			if p, err := strconv.Atoi(f); err == nil {
				seen[p] = true
			}
		}
	}
	for _, cg := range c.cgroups() {
		_ = filepath.WalkDir(cg, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
				return nil
			}
			b, _ := os.ReadFile(path)
			for _, f := range strings.Fields(string(b)) {
				if p, err := strconv.Atoi(f); err == nil {
					seen[p] = true
				}
			}
			return nil
		})
	}
	pf, _ := filepath.Glob(filepath.Join(c.opts.RunDir, "h*", "dockerd.pid"))
	for _, f := range pf {
		b, _ := os.ReadFile(f)
		if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && sameDaemon(p, f) {
			seen[p] = true
		}
	}
	for _, h := range c.Hosts {
		if h.pid > 0 {
			seen[h.pid] = true
		}
	}
	delete(seen, os.Getpid())
	var ps []int
	for p := range seen {
		if p > 1 && !zombie(p) {
			ps = append(ps, p)
		}
	}
	sort.Ints(ps)
	return ps
}

// sameDaemon reports whether pid is still a dockerd whose command line
// names the pidfile's directory (a recycled pid is left alone).
func sameDaemon(pid int, pidfile string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.Contains(string(b), filepath.Dir(pidfile))
}

// killAll asks the dockerds to stop, then kills every process of the
// prefix until none is left (containers whose PID 1 ignores SIGTERM would
// hold a graceful stop for ten seconds).
func (c *Cluster) killAll(ctx context.Context, nss []string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		ps := c.pids(ctx, nss)
		if len(ps) == 0 {
			return nil
		}
		for _, p := range ps {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testhosts: processes still alive after SIGKILL: %v", ps)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// mounts lists the mount points at or below dir, deepest first.
func mounts(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var ms []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 5 {
			continue
		}
		mp := unescapeMount(fs[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			ms = append(ms, mp)
		}
	}
	sort.Slice(ms, func(i, j int) bool { return len(ms[i]) > len(ms[j]) })
	return ms
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unmountBelow lazily unmounts everything at or below dir (after a dockerd
// is killed its bind mounts, overlays and namespace files stay).
func unmountBelow(dir string) error {
	for range 5 {
		ms := mounts(dir)
		if len(ms) == 0 {
			return nil
		}
		for _, m := range ms {
			_ = syscall.Unmount(m, syscall.MNT_DETACH)
		}
	}
	if ms := mounts(dir); len(ms) > 0 {
		return fmt.Errorf("still mounted: %v", ms)
	}
	return nil
}

// removeCgroup removes a cgroup directory and its children, deepest
// first (cgroup directories go with rmdir only).
func removeCgroup(dir string) error {
	var dirs []string
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	var last error
	for range 50 {
		last = nil
		for _, d := range dirs {
			if err := syscall.Rmdir(d); err != nil && !errors.Is(err, os.ErrNotExist) {
				last = fmt.Errorf("rmdir %s: %w", d, err)
			}
		}
		if last == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return last
}

// Leftovers lists what of the prefix still exists: namespaces, the root
// namespace's link, cgroups, mounts, directories, processes.
func (c *Cluster) Leftovers(ctx context.Context) []string {
	var left []string
	nss := c.namespaces(ctx)
	for _, ns := range nss {
		left = append(left, "namespace "+ns)
	}
	if _, err := run(ctx, "ip", "link", "show", c.rootLink()); err == nil {
		left = append(left, "link "+c.rootLink())
	}
	for _, cg := range c.cgroups() {
		left = append(left, "cgroup "+cg)
	}
	for _, dir := range []string{c.opts.RunDir, c.opts.Dir} {
		for _, m := range mounts(dir) {
			left = append(left, "mount "+m)
		}
		if _, err := os.Stat(dir); err == nil {
			left = append(left, "directory "+dir)
		}
	}
	for _, p := range c.pids(ctx, nss) {
		left = append(left, "process "+itoa(p))
	}
	return left
}

// zombie reports whether pid has ended and waits for its parent to reap it
// (or is gone): SIGKILL cannot do more.
func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}
