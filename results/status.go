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
)
