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
		if _, got := failed(testTasks, tc.service); got != tc.failed {
			t.Errorf("failed(%s) = %v; want %v", tc.service, got, tc.failed)
		}
	}
}
