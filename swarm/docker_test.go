package swarm

import "testing"

// The task listing as `docker stack ps --format '{{json .}}'` gives it.
var testTasks = []task{
	{Name: "duckbench-x_app1.1", DesiredState: "Running", CurrentState: "Running 3 seconds ago"},
	{Name: "duckbench-x_app1.2", DesiredState: "Running", CurrentState: "Starting 1 second ago"},
	{Name: "duckbench-x_app2.1", DesiredState: "Shutdown", CurrentState: "Failed 9 seconds ago", Error: "task: non-zero exit (137)"},
	{Name: "duckbench-x_app2.1", DesiredState: "Running", CurrentState: "Running 2 seconds ago"},
	{Name: `\_ duckbench-x_redis-master.1`, DesiredState: "Shutdown", CurrentState: "Shutdown 1 minute ago"},
}

func TestTaskCounts(t *testing.T) {
	for _, tc := range []struct {
		service string
		running int
		failed  bool
	}{
		{"duckbench-x_app1", 1, false}, // the starting task is not healthy yet
		{"duckbench-x_app2", 1, true},  // the failed task stays listed beside its replacement
		{"duckbench-x_redis-master", 0, false},
		{"duckbench-x_app", 0, false}, // no prefix matching
	} {
		if got := running(testTasks, tc.service); got != tc.running {
			t.Errorf("running(%s) = %d; want %d", tc.service, got, tc.running)
		}
		if _, got := failed(testTasks, tc.service, nil); got != tc.failed {
			t.Errorf("failed(%s) = %v; want %v", tc.service, got, tc.failed)
		}
	}
}

// TestEngineStartFailure: only a task whose container the engine failed to
// start (the EBUSY remount of its secrets seen in CI) is started again;
// a program that ran and exited, a rejected task or a task that never
// failed is not. failed leaves out the tasks already started again.
func TestEngineStartFailure(t *testing.T) {
	busy := task{ID: "t1", Name: "s_redis-replica-2.1", DesiredState: "Shutdown", CurrentState: "Failed less than a second ago",
		Error: `"starting container failed: unable to remount dir as readonly: mount tmpfs:/var/lib/docker/containers/3449/mounts/secrets, flags: 0x21, data: uid=0,gid=0: device or resource busy"`}
	for _, tc := range []struct {
		t    task
		want bool
	}{
		{busy, true},
		{task{CurrentState: "Failed 2 seconds ago", Error: "task: non-zero exit (1)"}, false},
		{task{CurrentState: "Rejected 1 second ago", Error: `"No such image: duckbench/app:dev"`}, false},
		{task{CurrentState: "Running 1 second ago", Error: "starting container failed: x"}, false},
	} {
		if got := engineStartFailure(tc.t); got != tc.want {
			t.Errorf("engineStartFailure(%+v) = %v; want %v", tc.t, got, tc.want)
		}
	}
	ts := []task{busy, {ID: "t2", Name: "s_redis-replica-2.1", DesiredState: "Running", CurrentState: "Running 1 second ago"}}
	if _, ok := failed(ts, "s_redis-replica-2", map[string]bool{"t1": true}); ok {
		t.Error("failed found the task already started again")
	}
	if got, ok := failed(ts, "s_redis-replica-2", nil); !ok || got.ID != "t1" {
		t.Errorf("failed = %+v, %v; want the failed task t1", got, ok)
	}
}
