package redisprobe

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files")

// Fixtures captured from the real redis-server 7.0.15: a master with two
// replicas on 16380/16381 (one with lag=1), a replica, and a replica whose
// master does not exist (link down).
const (
	masterFixture   = "../testdata/redis-7.0-master-info.txt"
	replicaFixture  = "../testdata/redis-7.0-replica-info.txt"
	linkDownFixture = "../testdata/redis-7.0-replica-linkdown-info.txt"
)

func readFixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseInfoMaster(t *testing.T) {
	info, err := ParseInfo(readFixture(t, masterFixture))
	if err != nil {
		t.Fatalf("ParseInfo = %v", err)
	}
	if !info.IsMaster() || info.MasterReplOffset != 1569 || len(info.Replicas) != 2 {
		t.Fatalf("ParseInfo = role %q offset %d replicas %d; want master 1569 2", info.Role, info.MasterReplOffset, len(info.Replicas))
	}
	got, want := info.Replicas[1], ReplicaLine{Index: 1, IP: "127.0.0.1", Port: 16381, State: "online", Offset: 1569, Lag: 1}
	if got != want {
		t.Errorf("Replicas[1] = %+v; want %+v", got, want)
	}
	if info.KeyspaceHits != 30 || info.KeyspaceMisses != 10 {
		t.Errorf("keyspace = %d/%d; want 30/10", info.KeyspaceHits, info.KeyspaceMisses)
	}
}

func TestParseInfoReplica(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		linkUp  bool
		lastIO  int64
	}{
		{replicaFixture, true, 5},
		{linkDownFixture, false, -1},
	} {
		t.Run(filepath.Base(tc.fixture), func(t *testing.T) {
			info, err := ParseInfo(readFixture(t, tc.fixture))
			if err != nil {
				t.Fatalf("ParseInfo = %v", err)
			}
			if info.Role != "slave" || info.MasterLinkUp != tc.linkUp || info.MasterLastIOSecondsAgo != tc.lastIO || info.MasterSyncInProgress {
				t.Errorf("ParseInfo = %+v; want slave, link up %v, last io %d", info, tc.linkUp, tc.lastIO)
			}
		})
	}
}

func TestParseInfoOffsetLag(t *testing.T) {
	info, err := ParseInfo("# Replication\r\nrole:master\r\nslave0:ip=10.0.0.2,port=6379,state=online,offset=900,lag=3\r\nmaster_repl_offset:1000\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := info.OffsetLag(info.Replicas[0]); got != 100 {
		t.Errorf("OffsetLag = %d; want 100", got)
	}
}

func TestParseInfoErrors(t *testing.T) {
	for name, in := range map[string]string{
		"empty":       "",
		"only header": "# Server\r\n",
		"bad offset":  "master_repl_offset:x\r\n",
		"bad replica": "slave0:ip=a,port=p,offset=1\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseInfo(in); err == nil {
				t.Errorf("ParseInfo(%q) = nil error; want one", in)
			}
		})
	}
}

func FuzzParseInfo(f *testing.F) {
	for _, p := range []string{masterFixture, replicaFixture, linkDownFixture} {
		f.Add(readFixture(f, p))
	}
	f.Add("slave0:ip=1,port=2,state=online,offset=3,lag=4\nmaster_repl_offset:9")
	f.Add("slave:\nslave01:=\n#\n:")
	f.Fuzz(func(t *testing.T, in string) {
		info, err := ParseInfo(in)
		if err != nil {
			return
		}
		for _, r := range info.Replicas {
			_ = info.OffsetLag(r)
			_ = r.Addr()
		}
	})
}

// fakeRedis answers INFO with a fixed text and everything else with an
// error, speaking RESP2 — enough for the collector.
func fakeRedis(t *testing.T, info string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveRESP(c, info)
		}
	}()
	return ln.Addr().String()
}

func serveRESP(c net.Conn, info string) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "*")))
		var args []string
		for range n {
			if _, err := r.ReadString('\n'); err != nil { // $len
				return
			}
			a, err := r.ReadString('\n')
			if err != nil {
				return
			}
			args = append(args, strings.TrimSpace(a))
		}
		if len(args) > 0 && strings.EqualFold(args[0], "info") {
			fmt.Fprintf(c, "$%d\r\n%s\r\n", len(info), info)
		} else {
			fmt.Fprint(c, "-ERR unknown command\r\n")
		}
	}
}

var exported = []string{
	"duckbench_redis_up", "duckbench_redis_replica_link_up", "duckbench_redis_replication_offset_lag_bytes",
	"duckbench_redis_replication_ack_age_seconds", "duckbench_redis_replica_sync_in_progress",
	"duckbench_redis_keyspace_hits_total", "duckbench_redis_keyspace_misses_total",
	"duckbench_redis_keyspace_hit_ratio", "duckbench_probe_success",
}

// deadAddr is a loopback port nobody listens on.
func deadAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestCollector(t *testing.T) {
	master := NewNode("redis-master", RoleMaster, fakeRedis(t, readFixture(t, masterFixture)), "")
	// The replica endpoints as the master announces them (127.0.0.1:16380/1)
	// cannot be faked on those ports: the first is matched by its tcp_port,
	// the second does not answer (up 0) and is still reported from the
	// master's view.
	r1 := NewNode("redis-replica-1", RoleReplica, fakeRedis(t, readFixture(t, replicaFixture)), "")
	r2 := NewNode("redis-replica-2", RoleReplica, deadAddr(t), "")
	c := NewCollector(master, []*Node{r1, r2}, nil, time.Second)
	testenv.CollectGolden(t, c, filepath.Join("..", "testdata", "redisprobe-"+t.Name()+".prom"), *update, exported...)
}

// Containers announce their inner address (172.x:6379 for all of them);
// the replica's master-link address tells them apart.
func TestMatchReplica(t *testing.T) {
	lines := []ReplicaLine{{IP: "172.18.0.3", Port: 6379}, {IP: "172.18.0.4", Port: 6379}}
	info := &Info{TCPPort: 6379}
	for _, tc := range []struct {
		name, addr, link string
		want             int
		ok               bool
	}{
		{"by address", "172.18.0.4:6379", "", 1, true},
		{"by link ip", "127.0.0.1:6381", "172.18.0.3:40122", 0, true},
		{"ambiguous port", "127.0.0.1:6381", "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NodeResult{Node: &Node{Name: "r", Addr: tc.addr}, Info: info}
			got, ok := matchReplica(lines, r, tc.link, map[int]bool{})
			if ok != tc.ok || (ok && got != tc.want) {
				t.Errorf("matchReplica(%q, link %q) = %d, %v; want %d, %v", tc.addr, tc.link, got, ok, tc.want, tc.ok)
			}
		})
	}
	if got := parseLAddr("id=3 addr=172.18.0.2:6379 laddr=172.18.0.3:40122 fd=8 flags=M"); got != "172.18.0.3:40122" {
		t.Errorf("parseLAddr = %q", got)
	}
}
