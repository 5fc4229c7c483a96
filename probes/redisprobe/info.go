// Package redisprobe watches a Redis master and its replicas: it parses INFO,
// measures true replication delay with a heartbeat published on the master
// and pushed to a subscriber on every replica (one process, one clock, no
// polling), and exposes it all as a prometheus.Collector that scrapes at
// Collect time.
package redisprobe

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// ErrEmptyInfo is returned by ParseInfo for input without a single field.
var ErrEmptyInfo = errors.New("empty INFO reply")

// Info is the part of a node's INFO reply the probes use. Fields holds every
// "key:value" line by section (lowercase) and key, for anything else.
type Info struct {
	Role          string // "master" or "slave"
	RunID         string
	TCPPort       int
	UptimeSeconds int64

	// Master side (INFO replication on the master).
	MasterReplOffset int64
	Replicas         []ReplicaLine

	// Replica side (INFO replication on a replica).
	MasterHost             string
	MasterPort             int
	MasterLinkUp           bool
	MasterLastIOSecondsAgo int64 // -1 when the link never came up
	MasterSyncInProgress   bool
	SlaveReplOffset        int64

	// INFO stats.
	KeyspaceHits   uint64
	KeyspaceMisses uint64

	Fields map[string]map[string]string
}

// ReplicaLine is one "slaveN:ip=…,port=…,state=…,offset=…,lag=…" line of the
// master's INFO replication.
type ReplicaLine struct {
	Index  int
	IP     string
	Port   int
	State  string
	Offset int64 // replication offset the replica acknowledged
	// Lag is INFO's "lag": whole seconds since the replica's last ACK. It is
	// not a propagation delay.
	Lag int64
}

// Addr is the replica's announced address, ip:port.
func (r ReplicaLine) Addr() string { return net.JoinHostPort(r.IP, strconv.Itoa(r.Port)) }

// IsMaster reports whether the node said role:master.
func (i *Info) IsMaster() bool { return i.Role == "master" }

// OffsetLag is master_repl_offset − the replica's acknowledged offset, both
// from this one INFO reply (so they are consistent with each other).
func (i *Info) OffsetLag(r ReplicaLine) int64 { return i.MasterReplOffset - r.Offset }

// Get returns a raw field from any section.
func (i *Info) Get(key string) (string, bool) {
	for _, sec := range i.Fields {
		if v, ok := sec[key]; ok {
			return v, true
		}
	}
	return "", false
}

// ParseInfo parses the text of an INFO reply (any sections). Unknown lines
// are kept in Fields; a known numeric field that is not a number is an error.
func ParseInfo(text string) (*Info, error) {
	info := &Info{Fields: map[string]map[string]string{}, MasterLastIOSecondsAgo: -1}
	section := ""
	n := 0
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			section = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(line, "#")))
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok || key == "" {
			continue
		}
		if info.Fields[section] == nil {
			info.Fields[section] = map[string]string{}
		}
		info.Fields[section][key] = val
		n++
		if err := info.set(key, val); err != nil {
			return nil, fmt.Errorf("parse INFO field %q: %w", key, err)
		}
	}
	if n == 0 {
		return nil, ErrEmptyInfo
	}
	return info, nil
}

func (i *Info) set(key, val string) error {
	var err error
	switch key {
	case "role":
		i.Role = val
	case "run_id":
		i.RunID = val
	case "tcp_port":
		i.TCPPort, err = strconv.Atoi(val)
	case "uptime_in_seconds":
		i.UptimeSeconds, err = strconv.ParseInt(val, 10, 64)
	case "master_repl_offset":
		i.MasterReplOffset, err = strconv.ParseInt(val, 10, 64)
	case "master_host":
		i.MasterHost = val
	case "master_port":
		i.MasterPort, err = strconv.Atoi(val)
	case "master_link_status":
		i.MasterLinkUp = val == "up"
	case "master_last_io_seconds_ago":
		i.MasterLastIOSecondsAgo, err = strconv.ParseInt(val, 10, 64)
	case "master_sync_in_progress":
		i.MasterSyncInProgress = val == "1"
	case "slave_repl_offset":
		i.SlaveReplOffset, err = strconv.ParseInt(val, 10, 64)
	case "keyspace_hits":
		i.KeyspaceHits, err = strconv.ParseUint(val, 10, 64)
	case "keyspace_misses":
		i.KeyspaceMisses, err = strconv.ParseUint(val, 10, 64)
	default:
		if idx, ok := replicaIndex(key); ok {
			r, perr := parseReplicaLine(val)
			if perr != nil {
				return perr
			}
			r.Index = idx
			i.Replicas = append(i.Replicas, r)
		}
	}
	return err
}

// replicaIndex recognises "slave0", "slave12".
func replicaIndex(key string) (int, bool) {
	rest, ok := strings.CutPrefix(key, "slave")
	if !ok || rest == "" {
		return 0, false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}

func parseReplicaLine(val string) (ReplicaLine, error) {
	var r ReplicaLine
	var err error
	for _, kv := range strings.Split(val, ",") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "ip":
			r.IP = v
		case "port":
			r.Port, err = strconv.Atoi(v)
		case "state":
			r.State = v
		case "offset":
			r.Offset, err = strconv.ParseInt(v, 10, 64)
		case "lag":
			r.Lag, err = strconv.ParseInt(v, 10, 64)
		}
		if err != nil {
			return r, fmt.Errorf("replica field %q: %w", k, err)
		}
	}
	return r, nil
}
