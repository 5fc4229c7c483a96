package results

// Status values of a Result: what became of the run the record describes.
const (
	// StatusCompleted is a run that ran its whole plan.
	StatusCompleted = "completed"
	// StatusInterrupted is a run cut short by a signal; its figures cover
	// the part that ran.
	StatusInterrupted = "interrupted"
	// StatusFailed is a run whose stack, probes or attack failed; Error says why.
	StatusFailed = "failed"
	// StatusIncomplete is a run with load agents of which one or more
	// delivered no result, or whose clocks disagreed beyond the bound:
	// its figures are the merge of the shards that came back, Error and
	// Agents name the rest.
	StatusIncomplete = "incomplete"
)
